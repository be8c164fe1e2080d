"""`#{scheme ...}` in config files: the shared Scheme evaluator with Megatest's names."""

from __future__ import annotations

import os
import socket

import pytest
from readertools import env_with, read_text

from megatest.config.reader import Config
from megatest.config.scheme import SchemeContext, evaluate
from megatest.errors import ConfigError
from megatest.scheme import SchemeError


def rt(text: str, **kw) -> Config:
    return read_text(text, "s.config", **kw)


def scm(expr: str, **kw) -> object:
    return rt(f"[s]\nk #{{scheme {expr}}}\n", **kw).lookup("s", "k")


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("(+ 40 2)", "42"),
        ("(- 10 3 2)", "5"),
        ("(/ 10 4)", "2.5"),
        ("(/ 12 4)", "3"),
        ('(conc "n=" 5 " " #t)', "n=5 #t"),
        ('(string-intersperse (list "t1" "t2" "t3") ",")', "t1,t2,t3"),
        ('(if #f "x")', "#<unspecified>"),
        ('(conc "[" (or #f "" "z") "]")', "[]"),  # "" is true in Scheme
        ('(case (string->symbol "linux") ((linux unix) "posix") (else "other"))', "posix"),
        ("(list 1 \"two\" (quote three))", "(1 two three)"),  # a list displays, strings bare
        ("(cons 1 2)", "(1 . 2)"),
        ("(+ 1 2)) (ignored", "3"),  # the original reads only the first datum
        # the forms of the issue: define, lambda, let/let*/named let, map, for-each, apply, sort
        ("(define (sq x) (* x x)) (sq 7)", "49"),
        ("(define (f . args) (length args)) (f 1 2 3)", "3"),
        ("((lambda (a . rest) (conc a (length rest))) 1 2 3)", "12"),
        ("(let* ((a 2) (b (+ a 1))) (* a b))", "6"),
        ("(let loop ((i 0) (acc '())) (if (< i 3) (loop (+ i 1) (cons i acc)) (reverse acc)))", "(0 1 2)"),
        ("(letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1))))) (od? (lambda (n) (if (= n 0) #f (ev? (- n 1)))))) (ev? 10))", "#t"),
        ('(string-intersperse (map (lambda (x) (conc "v" x)) (list 1 2)) " ")', "v1 v2"),
        ("(let ((n 0)) (for-each (lambda (x) (set! n (+ n x))) '(1 2 3)) n)", "6"),
        ("(apply + 1 '(2 3))", "6"),
        ("(sort '(3 1 2) <)", "(1 2 3)"),
        ('(sort (list "b" "a") string<?)', "(a b)"),
        ('(any->number "12")', "12"),
        ("(any->number 'x)", "#f"),
        ("`(a ,(+ 1 1) ,@(list 3 4))", "(a 2 3 4)"),
        ("(cond ((assoc 2 '((1 one) (2 two))) => cadr) (else 'none))", "two"),
        ("(when (> 2 1) 'yes)", "yes"),
        ('(string-substitute "-" "_" "a-b-c" #t)', "a_b_c"),
        ('(if (string-search "^ab" "abc") "hit" "miss")', "hit"),
    ],
)
def test_scheme_forms(expr, expected):
    assert scm(expr) == expected


def test_named_let_sort_and_map_as_a_real_area_writes_them():
    # A `[items]` value the way real areas build test numbers: named let, sort, map, any->number.
    expr = (
        '(string-intersperse (map (lambda (x) (conc "blah/" x)) '
        "(map number->string (sort (let loop ((a 0) (res '())) "
        '(if (<= a (or (any->number (get-environment-variable "NUMTESTS")) 2500)) '
        '(loop (+ a 1) (cons a res)) res)) <))) " ")'
    )
    assert scm(expr, env=env_with(NUMTESTS="3")) == "blah/0 blah/1 blah/2 blah/3"
    assert len(scm(expr).split(" ")) == 2501  # 2501 iterations: loops do not grow the stack


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


def test_args_toppath_ht_lookup_and_host_name():
    assert scm('(args:get-arg "-target")') == "#f"
    assert scm('(args:get-arg "-target")', args={"-target": "a/b"}) == "a/b"
    assert scm("*toppath*", toppath="/top") == "/top"
    cfg = rt('[a]\nx 1\n[s]\nk #{scheme (config-lookup ht "a" "x")}\nj #{scheme (configf:lookup ht "a" "x")}\n')
    assert cfg.lookup("s", "k") == "1" and cfg.lookup("s", "j") == "1"
    assert scm("(get-host-name)") == socket.gethostname()


def test_nice_path_in_disks_and_create_directory(tmp_path):
    cfg = rt(
        '[disks]\ndisk0 #{scheme (nice-path "runs/../area/./x/")}\n'
        'disk1 #{scheme (create-directory (nice-path "made/deep") #t)}\n',
        cwd=str(tmp_path),
    )
    assert cfg.lookup("disks", "disk0") == f"{tmp_path}/area/x/"
    assert cfg.lookup("disks", "disk1") == f"{tmp_path}/made/deep"
    assert (tmp_path / "made/deep").is_dir()


def test_dbfile_path_is_the_areas_database_folder_made_if_missing(tmp_path):
    # an area's test exports it (`MT_DBDIR #{scheme (db:dbfile-path #f)}`) to read main.db
    # and <run-id>.db itself, as the original's db_sync test does
    from megatest.store.paths import main_db

    top = tmp_path / "area"
    top.mkdir()
    assert scm("(db:dbfile-path #f)", toppath=str(top)) == str(main_db(top).parent)
    assert main_db(top).parent.is_dir()


def test_items_built_with_list_code_expand_to_items():
    from megatest.config.items import expand_items

    cfg = rt(
        "[items]\n"
        "SEASON #{scheme (string-intersperse (map symbol->string '(summer winter)) \" \")}\n"
        "NUM #{scheme (string-intersperse (map number->string (iota 2 1)) \" \")}\n"
    )
    paths = [item.path for item in expand_items(cfg.section("items"), None)]
    assert paths == ["summer/1", "summer/2", "winter/1", "winter/2"]


def test_a_list_result_displays_as_the_original_concs_it():
    # The original pastes the displayed value into the line: a list keeps its parentheses.
    cfg = rt("[items]\nX #{scheme (list \"a\" \"b\")}\n")
    assert cfg.lookup("items", "X") == "(a b)"


def test_multi_line_scheme_built_with_backslash_joining():
    cfg = rt('[s]\nk #{scheme (let ((x 20))\\\n   (+ x 22))}\n')
    assert cfg.lookup("s", "k") == "42"


def test_printed_output_becomes_a_diagnostic():
    cfg = rt('[s]\nk #{scheme (begin (print "hello " 1) 2)}\n')
    assert cfg.lookup("s", "k") == "2"
    assert [d.message for d in cfg.diagnostics] == ["#{scheme} output: hello 1"]


@pytest.mark.parametrize(
    "expr, name",
    [("(system* \"rm -rf /\")", "system*"), ('(rmt:get-tests-for-run 1)', "rmt:get-tests-for-run"),
     ("(db:get-value #f)", "db:get-value"), ("undefined-var", "undefined-var")],
)
def test_unsupported_name_is_a_config_error_naming_file_line_and_name(expr, name):
    with pytest.raises(ConfigError) as exc:
        rt(f"[s]\nok 1\nk #{{scheme {expr}}}\n")
    assert exc.value.path == "s.config" and exc.value.line == 3
    assert f"unsupported form or name '{name}'" in exc.value.message


def test_megatest_internal_call_says_so():
    with pytest.raises(ConfigError, match="Megatest-internal procedure 'rmt:get-tests' is not supported"):
        scm("(rmt:get-tests 1)")


def test_endless_loop_is_one_config_error_naming_file_and_line():
    with pytest.raises(ConfigError) as exc:
        rt("[s]\nk #{scheme (let loop () (loop))}\n")
    assert exc.value.path == "s.config" and exc.value.line == 2
    assert "did not finish" in exc.value.message


def test_deep_recursion_is_one_config_error():
    with pytest.raises(ConfigError, match="recursion"):
        scm("(begin (define (f n) (if (= n 0) 0 (+ 1 (f (- n 1))))) (f 100000))")


@pytest.mark.parametrize(
    "expr", ['(+ 1 "a")', "(+ 1", "(car (list))", "(/ 1 0)", "", "(+ 1 2) ; the comment eats the )",
             '(error "boom")']
)
def test_runtime_errors_give_the_fallback_text(expr):
    assert scm(expr) == f"#{{( scheme) {expr}}}, full expansion: (lambda (ht){expr})"


def test_evaluator_direct_use():
    ctx = SchemeContext(env={"Q": "q"})
    assert evaluate('(string-append (getenv "Q") "!")', ctx) == "q!"
    with pytest.raises(SchemeError):
        evaluate("(string-length 5)", ctx)
