"""`#{scheme ...}`: the whitelist evaluator, as used from config files."""

from __future__ import annotations

import os
import socket

import pytest
from readertools import env_with, read_text

from megatest.config.reader import Config
from megatest.config.scheme import SchemeContext, SchemeError, evaluate, read_all, supported_names
from megatest.errors import ConfigError


def rt(text: str, **kw) -> Config:
    return read_text(text, "s.config", **kw)


def scm(expr: str, **kw) -> object:
    return rt(f"[s]\nk #{{scheme {expr}}}\n", **kw).lookup("s", "k")


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("(+ 40 2)", "42"),
        ("(- 10 3 2)", "5"),
        ("(* 6 7)", "42"),
        ("(/ 10 4)", "2.5"),
        ("(/ 12 4)", "3"),
        ("(max 1 9 3)", "9"),
        ('(string-append "a" "b" "c")', "abc"),
        ('(conc "n=" 5 " " #t)', "n=5 #t"),
        ("(number->string (* 3 5))", "15"),
        ('(string->number "17")', "17"),
        ('(string-intersperse (list "t1" "t2" "t3") ",")', "t1,t2,t3"),
        ('(string-intersperse (quote ("a" "b")))', "a b"),
        ("(if (> 2 1) \"yes\" \"no\")", "yes"),
        ('(if #f "x")', "#<unspecified>"),
        ("(and 1 2 3)", "3"),
        ('(conc "[" (or #f "" "z") "]")', "[]"),  # "" is true in Scheme
        ('(let ((a 2) (b 3)) (* a b))', "6"),
        ('(let* ((a 2) (b (+ a 1))) (* a b))', "6"),
        ('(begin (+ 1 1) "last")', "last"),
        ('(case (string->symbol "linux") ((linux unix) "posix") (else "other"))', "posix"),
        ('(case (string->symbol "win") ((linux) "posix") (else "other"))', "other"),
        ('(cond ((string=? "a" "b") 1) ((string<? "a" "b") 2) (else 3))', "2"),
        ("(list 1 \"two\" (quote three))", "(1 two three)"),
        ("'sym", "sym"),
        ('(string-null? "")', "#t"),
        ("(not #f)", "#t"),
        ("(equal? (list 1 2) (list 1 2))", "#t"),
        ('(substring "megatest" 0 4)', "mega"),
        ("(+ 1 2)) (ignored", "3"),  # the original reads only the first datum
        ('(string-upcase "ab")', "AB"),
    ],
)
def test_supported_forms(expr, expected):
    assert scm(expr) == expected


def test_getenv_setenv_unsetenv_work_on_the_env_mapping():
    env = env_with(A="1", GONE="x")
    cfg = rt(
        '[s]\na #{scheme (getenv "A")}\nb #{scm (get-environment-variable "NOPE")}\n'
        '#{scheme (setenv "NEW" "n")}\n#{scheme (unsetenv "GONE")}\nc #{getenv NEW}\n',
        env=env,
    )
    assert cfg.section("s") == {"a": "1", "b": "#f", "c": "n"}
    assert env["NEW"] == "n" and "GONE" not in env
    assert "NEW" not in os.environ


def test_args_get_arg_returns_false_unless_given():
    assert scm('(args:get-arg "-target")') == "#f"
    assert scm('(args:get-arg "-target")', args={"-target": "a/b"}) == "a/b"
    assert scm('(or (args:get-arg "-x") "dflt")') == "dflt"


def test_toppath_and_ht_lookup():
    assert scm("*toppath*", toppath="/top") == "/top"
    assert scm("*toppath*") == "#f"
    cfg = rt('[a]\nx 1\n[s]\nk #{scheme (config-lookup ht "a" "x")}\n')
    assert cfg.lookup("s", "k") == "1"


def test_create_directory_is_relative_to_cwd(tmp_path):
    assert scm('(create-directory "made/deep" #t)', cwd=str(tmp_path)) == "made/deep"
    assert (tmp_path / "made/deep").is_dir()


def test_get_host_name():
    assert scm("(get-host-name)") == socket.gethostname()


def test_multi_line_scheme_built_with_backslash_joining():
    cfg = rt('[s]\nk #{scheme (let ((x 20))\\\n   (+ x 22))}\n')
    assert cfg.lookup("s", "k") == "42"


def test_unsupported_form_is_a_config_error_naming_file_line_and_form():
    with pytest.raises(ConfigError) as exc:
        rt("[s]\nok 1\nk #{scheme (system* \"rm -rf /\")}\n")
    assert exc.value.path == "s.config" and exc.value.line == 3
    assert "system*" in exc.value.message


@pytest.mark.parametrize("expr", ["(define x 1)", "(lambda (x) x)", "(set! x 1)", "`(a ,b)", "undefined-var"])
def test_other_unsupported_forms(expr):
    with pytest.raises(ConfigError, match="unsupported"):
        scm(expr)


@pytest.mark.parametrize(
    "expr", ['(+ 1 "a")', "(+ 1", "(car (list))", "(/ 1 0)", "", "(+ 1 2) ; the comment eats the )"]
)
def test_runtime_errors_give_the_fallback_text(expr):
    assert scm(expr) == f"#{{( scheme) {expr}}}, full expansion: (lambda (ht){expr})"


def test_evaluator_direct_use_and_reader():
    assert read_all("(a \"b\\n\" 1 2.5 #t) x") == [["a", "b\n", 1, 2.5, True], "x"]
    ctx = SchemeContext(env={"Q": "q"})
    assert evaluate('(string-append (getenv "Q") "!")', ctx) == "q!"
    with pytest.raises(SchemeError):
        evaluate("(string-length 5)", ctx)
    assert {"if", "case", "conc", "getenv", "args:get-arg", "*toppath*"} <= set(supported_names())
