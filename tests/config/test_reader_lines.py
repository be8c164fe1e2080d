"""Line-level rules of the config reader (reference 1.2-1.5) not covered by the goldens."""

from __future__ import annotations

import os
import random

import pytest
from readertools import env_with, read_text

from megatest.config import lines as L
from megatest.config.reader import Config, display, read_config, read_config_text, split_ws
from megatest.errors import ConfigError


def rt(text: str, **kw) -> Config:
    return read_text(text, "t.config", **kw)


# ---------------------------------------------------------------- line ends and joining


def test_crlf_and_lone_cr_end_lines(tmp_path):
    p = tmp_path / "x.config"
    p.write_bytes(b"[s]\r\na 1\r\nb 2\rc 3\n")
    cfg = read_config(p, env=env_with())
    assert cfg.to_json_dict() == {"s": {"a": "1", "b": "2", "c": "3"}}


def test_cr_is_not_whitespace_inside_a_line():
    # a CR reaching a line (here through an escape) is an ordinary character: it is a key
    cfg = rt("[s]\n#{getenv CRKEY} v\n", env=env_with(CRKEY="k\r"))
    assert cfg.section("s") == {"k\r": "v"}


def test_backslash_joins_next_line_verbatim_even_when_doubled():
    cfg = rt("[s]\na one\\\\\n  two\n")
    assert cfg.lookup("s", "a") == "one\\  two"


def test_backslash_at_end_of_file_is_an_error_naming_the_logical_line_start(tmp_path):
    p = tmp_path / "bad.config"
    p.write_text("[s]\na 1\nb two\\\nthree\\\n")
    with pytest.raises(ConfigError) as exc:
        read_config(p, env=env_with())
    assert exc.value.path == str(p) and exc.value.line == 3
    assert str(exc.value).startswith(f"{p}:3: ")


def test_comment_ending_in_backslash_swallows_the_next_line():
    cfg = rt("[s]\n# note \\\nhidden yes\nshown yes\n")
    assert cfg.section("s") == {"shown": "yes"}


# ---------------------------------------------------------------- classification


@pytest.mark.parametrize(
    "line, section, key, value",
    [
        ("KEY=VAL", "s", "KEY=VAL", ""),
        ("key = value", "s", "key", "= value"),
        ('k2 "quoted value"', "s", "k2", '"quoted value"'),
        ("flag    ", "s", "flag", "    "),
        ("[s] # c", "s", "[s]", "# c"),
        ("k x[system echo no]", "s", "k", "x[system echo no]"),
    ],
)
def test_key_value_separator_is_whitespace_only(line, section, key, value):
    cfg = rt(f"[s]\n{line}\n")
    assert cfg.lookup(section, key) == value


@pytest.mark.parametrize(
    "header, name", [("[a]b]", "a]b"), ("[]", ""), ("[ spaced ]", " spaced "), ("[x]  \t", "x")]
)
def test_section_name_is_between_first_bracket_and_last(header, name):
    cfg = rt(f"{header}\nk v\n")
    assert cfg.section(name) == {"k": "v"}


def test_indented_header_is_continuation_text():
    cfg = rt("[s]\nk v\n  [sec2]\n")
    assert cfg.to_json_dict() == {"s": {"k": "v\n[sec2]"}}


def test_unterminated_header_is_an_error():
    with pytest.raises(ConfigError) as exc:
        rt("[s]\nk v\n[broken\n")
    assert exc.value.line == 3 and "unterminated" in exc.value.message


def test_lines_before_any_header_go_to_default_and_empty_header_still_creates():
    cfg = rt("a 1\n[empty]\n")
    assert cfg.to_json_dict() == {"default": {"a": "1"}, "empty": {}}


def test_redefinition_moves_key_to_end_and_reopened_section_merges():
    cfg = rt("[s]\na 1\nb 2\n[t]\nx 1\n[s]\na 3\n")
    assert list(cfg.section("s").items()) == [("b", "2"), ("a", "3")]
    assert cfg.sections() == ["s", "t"]


def test_unparseable_line_is_a_diagnostic_and_ignored():
    # only an expansion can produce an unclassifiable line: a LF after a value's first char
    cfg = rt("[s]\nlst l1\n  l2\n[t]\nk #{get s lst}\nok 1\n")
    assert cfg.section("t") == {"ok": "1"}
    [d] = cfg.diagnostics
    assert d.path == "t.config" and d.line == 5 and "problem parsing" in d.message


# ---------------------------------------------------------------- LF inserted by expansions


def test_lf_left_of_a_remaining_directive_loses_the_rest_of_the_line():
    text = "[s]\nlst l1\n  l2\n[t]\nk #{getenv A} #{get s lst} end\nk2 #{get s lst} #{getenv A} end\n"
    cfg = rt(text, env=env_with(A="x"))
    assert cfg.section("t") == {"k": "x l1"}  # k2 is dropped: LF after the value's first char


def test_lf_in_gap_between_key_and_value_is_separator():
    cfg = rt("[s]\nk #{getenv NLV}\n", env=env_with(NLV="\nv"))
    assert cfg.section("s") == {"k": "v"}


def test_lf_in_trailing_blanks_of_key_only_line_is_kept_and_exported():
    env = env_with(SP=" \n")
    cfg = rt("[s]\nk#{getenv SP}\n", env=env)
    assert cfg.section("s") == {"k": " \n"}
    assert env["k"] == " \n"


def test_lf_before_first_non_blank_makes_a_continuation():
    cfg = rt("[s]\nk v\n#{getenv CONT}\n", env=env_with(CONT="\n  more"))
    assert cfg.section("s") == {"k": "v\nmore"}


def test_header_followed_by_blanks_and_lf_is_still_a_header():
    cfg = rt("[s#{getenv TAIL}\nk v\n", env=env_with(TAIL="] \n"))
    assert cfg.section("s") == {"k": "v"}


# ---------------------------------------------------------------- continuation rules


def test_key_without_value_with_trailing_blanks_continues_after_them():
    cfg = rt("[s]\nopt  \n  on\n")
    assert cfg.lookup("s", "opt") == "  \non"


def test_tab_lead_does_not_strip_spaces():
    cfg = rt("[s]\nk a\n\tb\n    c\n\t\td\n")
    assert cfg.lookup("s", "k") == "a\nb\n    c\n\td"


def test_lead_is_removed_once_anywhere_in_the_whitespace():
    cfg = rt("[s]\nk a\n  b\n \t  c\n")
    # lead "  "; " \t  " contains "  " after the tab: the first occurrence goes
    assert cfg.lookup("s", "k") == "a\nb\n \tc"


def test_system_key_cannot_be_continued_and_orphans_are_ignored():
    cfg = rt("[s]\nk [system echo hi]\n  more\nj v\n\n  orphan\n")
    assert cfg.section("s") == {"k": "hi", "j": "v"}
    assert cfg.diagnostics == []


def test_indented_comment_ends_a_value():
    cfg = rt("[s]\nk a\n  b\n  # inner comment\n  c\n")
    assert cfg.lookup("s", "k") == "a\nb"


# ---------------------------------------------------------------- trimming and settings


def test_trim_trailing_spaces_removes_space_tab_lf_but_not_cr():
    cfg = rt(
        "[s]\nbefore 1  \n[configf:settings trim-trailing-spaces yes]\nafter 2 \t\ncr #{getenv CR}\n",
        env=env_with(CR="x\r  "),
    )
    assert cfg.section("s") == {"before": "1  ", "after": "2", "cr": "x\r"}


def test_trim_makes_an_empty_directive_at_line_end_leave_no_blank():
    assert rt("[s]\nEMPTY #{sh true}\n").lookup("s", "EMPTY") == " "
    cfg = rt("[configf:settings trim-trailing-spaces yes]\n[s]\nEMPTY #{sh true}\n")
    assert cfg.lookup("s", "EMPTY") == ""


def test_trim_setting_no_turns_it_off_again():
    cfg = rt(
        "[configf:settings trim-trailing-spaces yes]\n[s]\na 1 \n"
        "[configf:settings trim-trailing-spaces no]\nb 2 \n"
    )
    assert cfg.section("s") == {"a": "1", "b": "2 "}


# ---------------------------------------------------------------- environment exports


def test_keys_without_value_are_exported_except_colon_and_invalid_names():
    env = env_with()
    rt("[s]\nPLAIN\nA:B\nX=Y\nWITHVAL v\n", env=env)
    assert env["PLAIN"] == ""
    assert "A:B" not in env and "X=Y" not in env and "X" not in env
    assert "WITHVAL" not in env


def test_environ_patt_is_searched_unanchored_and_evaluates_in_shell(tmp_path):
    env = env_with(BASE="/b")
    cfg = rt(
        "[my-env-override-x]\nP $BASE/p\nQ ${P}/q\n[other]\nR $BASE\n",
        env=env,
        environ_patt="env-override",
        cwd=str(tmp_path),
    )
    assert cfg.to_json_dict() == {"my-env-override-x": {"P": "/b/p", "Q": "/b/p/q"}, "other": {"R": "$BASE"}}
    assert env["Q"] == "/b/p/q" and "R" not in env


def test_environ_patt_no_output_stores_none_and_reports():
    env = env_with()
    cfg = rt("[env-override]\nK -n\nL x >/dev/null\nM $(false)\n", env=env, environ_patt="env-override")
    assert cfg.lookup("env-override", "K") is None
    assert cfg.lookup("env-override", "L") is None
    assert cfg.lookup("env-override", "M") == ""
    assert cfg.to_json_dict()["env-override"]["K"] == "#f"
    assert "K" not in env and "L" not in env and env["M"] == ""
    assert [d.line for d in cfg.diagnostics if "problem evaluating" in d.message] == [2, 3]


def test_environ_continuation_is_stored_but_not_exported_and_false_continues_as_f():
    env = env_with()
    cfg = rt("[env-override]\nK -n\n  tail\n", env=env, environ_patt="env-override")
    assert cfg.lookup("env-override", "K") == "#f\ntail"


def test_os_environ_is_never_mutated():
    before = dict(os.environ)
    cfg = rt("[env-override]\nMT_XYZ_TEST a\nMT_NOVAL_TEST\n#{scheme (setenv \"MT_S_TEST\" \"1\")}\n",
             env=None, environ_patt="env-override")
    assert dict(os.environ) == before
    assert cfg.env["MT_XYZ_TEST"] == "a" and cfg.env["MT_S_TEST"] == "1"


# ---------------------------------------------------------------- API surface


def test_config_api_lookup_section_set_display():
    cfg = rt("[s]\na 1\nb\n")
    assert cfg.lookup("s", "a") == "1" and cfg.lookup("s", "zz") is None
    assert cfg.lookup("nosuch", "a") is None
    assert cfg.section("nosuch") == {} and cfg.has_section("s") and not cfg.has_section("x")
    cfg.set("s", "a", "9")
    cfg.set("new", "k", None)
    assert list(cfg.section("s")) == ["b", "a"]
    assert cfg.to_json_dict() == {"s": {"b": "", "a": "9"}, "new": {"k": "#f"}}
    assert display(None) == "#f" and display(True) == "#t" and display(["a", 1, ["b"]]) == "(a 1 (b))"
    assert display(2.5) == "2.5" and display(7) == "7"


def test_split_ws_uses_only_space_tab_lf():
    assert split_ws(" a\tb\nc  d\x0be\u00a0f \r") == ["a", "b", "c", "d\x0be\u00a0f", "\r"]


def test_missing_file_returns_none(tmp_path):
    assert read_config(tmp_path / "nope.config") is None


def test_into_reads_into_existing_config_and_precreate():
    first = rt("[s]\na 1\n")
    again = read_config_text("[s]\nb #{get s a}2\n", "u.config", into=first, precreate=["pre"])
    assert again is first
    assert first.to_json_dict() == {"s": {"a": "1", "b": "12"}, "pre": {}}


# ---------------------------------------------------------------- fast path == pattern cascade

_ALPHABET = ["a", "k", " ", "\t", "\n", "#", "[", "]", "\r", "x", "=", "system", "[system ",
             "include ", "configf:settings ", "scriptinc ", "\x0b", "\u00a0"]


def test_fast_classifier_agrees_with_the_full_pattern_cascade():
    rng = random.Random(1234)
    for _ in range(20000):
        line = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 8)))
        assert L.classify(line) == L.classify_slow(line), repr(line)


def test_reading_a_directory_or_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        read_config(tmp_path, env=env_with())


def test_diagnostic_prints_as_path_line_message():
    cfg = rt("[s]\nk [system exit 1]\n")
    assert [str(d) for d in cfg.diagnostics] == ["t.config:2: [system exit 1] returned bad exit code 1"]


def test_non_utf8_bytes_survive_reading(tmp_path):
    p = tmp_path / "latin1.config"
    p.write_bytes(b"[s]\nname caf\xe9\n")
    value = read_config(p, env=env_with()).lookup("s", "name")
    assert value.encode("utf-8", "surrogateescape") == b"caf\xe9"
