"""`#{...}` directives: expansion order, quoting (`lit`), fallback text, each directive (1.6)."""

from __future__ import annotations

import os

import pytest
from readertools import env_with, read_text

from megatest.config.directives import DirectiveError, lit
from megatest.config.nicepath import nice_path, normalize_pathname
from megatest.config.reader import Config
from megatest.errors import ConfigError


def rt(text: str, **kw) -> Config:
    return read_text(text, "d.config", **kw)


def value(line: str, **kw) -> object:
    return rt(f"[s]\nk {line}\n", **kw).lookup("s", "k")


# ---------------------------------------------------------------- lit: Scheme string literal


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plain", "plain"),
        ("a\\tb", "a\tb"),
        ("a\\nb\\rc", "a\nb\rc"),
        ("\\a\\b\\v\\f", "\a\b\v\f"),
        ("\\x41\\u00e9", "A\u00e9"),
        ("back\\\\slash", "back\\slash"),
        ('say \\"hi\\"', 'say "hi"'),
        ("\\d", "d"),
    ],
)
def test_lit_reads_scheme_escapes(text, expected):
    assert lit(text) == expected


@pytest.mark.parametrize("text", ['a"b', "ends\\", "\\0", "\\x4", "\\xZZ", "\\u12"])
def test_lit_rejects_what_breaks_the_generated_code(text):
    with pytest.raises(DirectiveError):
        lit(text)


# ---------------------------------------------------------------- quoting pitfalls in context


def test_escaped_quote_is_a_plain_quote_for_the_shell():
    assert value('#{shell echo \\"p  q\\"}') == "p  q"


def test_unescaped_quote_in_shell_drops_the_whole_line():
    cfg = rt('[s]\nQUOTED #{shell echo "no"}\nnext 1\n')
    assert cfg.section("s") == {"next": "1"}
    assert any(d.line == 2 and "problem parsing" in d.message for d in cfg.diagnostics)


def test_unescaped_quote_in_getenv_keeps_line_with_fallback_text():
    assert value('#{getenv A"B}') == (
        '#{( getenv) A"B}, full expansion: (lambda (ht)(get-environment-variable "A"B"))'
    )


def test_fallback_text_for_get_rp_rget_mtrah_system():
    assert value("#{get s\\ k}") == (
        '#{( get) s\\ k}, full expansion: (lambda (ht)(config-lookup ht "s\\" "k"))'
    )
    assert value("#{rp a\\}") == '#{( rp) a\\}, full expansion: (lambda (ht)(common:nice-path "a\\"))'
    assert value('#{rget "x}') == '#{( rget) "x}, full expansion: (lambda (ht)(runconfigs-get ht ""x"))'
    assert value("#{system echo \\0}") == (
        '#{( system) echo \\0}, full expansion: (lambda (ht)(system "echo \\0"))'
    )
    assert value('#{mtrah "}').startswith('#{( mtrah) "}, full expansion: (lambda (ht)    (let ((extra """)')


def test_shell_escapes_reach_the_command():
    assert value("#{shell printf 'a\\tb'}") == "a\tb"


def test_getenv_argument_keeps_trailing_spaces():
    assert value("#{getenv HOME }x", env=env_with(HOME="/h")) == "#fx"


# ---------------------------------------------------------------- expansion order and rescanning


def test_nesting_expands_inside_out():
    cfg = rt("[std]\ntest1 genlib\n[s]\nk #{get #{getenv DEPS} test1}\n", env=env_with(DEPS="std"))
    assert cfg.lookup("s", "k") == "genlib"


def test_results_are_rescanned():
    assert value("#{getenv INDIRECT}", env=env_with(INDIRECT="#{getenv REAL}", REAL="r")) == "r"


def test_braces_in_argument_and_missing_blank_stay_literal():
    assert value("#{shell echo {a,b}} #{getenv} #{mtrah}") == "#{shell echo {a,b}} #{getenv} #{mtrah}"


def test_directives_expand_in_comment_lines_for_their_side_effects():
    env = env_with(GONE="x")
    cfg = rt('[s]\n# #{scheme (unsetenv "GONE")}\n', env=env)
    assert "GONE" not in env and cfg.section("s") == {}


def test_unset_or_unspecified_only_line_becomes_a_comment():
    env = env_with(X="1")
    cfg = rt('[s]\n#{getenv NOPE}\n#{scheme (unsetenv "X")}\nk v\n', env=env)
    assert cfg.section("s") == {"k": "v"} and cfg.diagnostics == []


def test_expansion_can_produce_header_and_key_lines():
    cfg = rt("[#{getenv T}]\n#{getenv LINE}\n", env=env_with(T="ubuntu", LINE="waiton a b"))
    assert cfg.to_json_dict() == {"ubuntu": {"waiton": "a b"}}


@pytest.mark.parametrize("arg", ["onlyone", "", "  "])
def test_get_with_fewer_than_two_words_is_fatal(arg):
    with pytest.raises(ConfigError) as exc:
        rt(f"[s]\na 1\nk #{{get {arg}}}\n")
    assert exc.value.path == "d.config" and exc.value.line == 3


def test_get_sees_only_what_was_read_so_far():
    cfg = rt("[s]\nbefore #{get s later}\nlater 1\nafter #{get s later}\n")
    assert cfg.section("s") == {"before": "#f", "later": "1", "after": "1"}


# ---------------------------------------------------------------- shell, system


def test_shell_output_lines_become_spaces_and_failure_gives_empty_with_diagnostic():
    assert value("#{sh printf 'a\\r\\nb\\rc\\n'}") == "a b c"
    cfg = rt("[s]\nk x#{shell echo out; exit 4}y\n")
    assert cfg.lookup("s", "k") == "xy"
    [d] = cfg.diagnostics
    assert d.line == 2 and "exit code 4" in d.message


def test_system_gives_raw_wait_status():
    assert value("#{system true}") == "0"
    assert value("#{system exit 2}") == "512"


def test_shell_runs_with_env_mapping_and_cwd(tmp_path):
    assert value("#{shell echo $MINE; pwd}", env=env_with(MINE="m"), cwd=str(tmp_path)) == f"m {tmp_path}"


# ---------------------------------------------------------------- rp, mtrah, rget


def test_rp_normalizes_and_keeps_trailing_slash(tmp_path):
    assert value("#{rp /a/./b//c/}") == "/a/b/c/"
    assert value("#{rp /a/b/../c}") == "/a/c"
    assert value("#{rp sub/../x}", cwd="/w") == "/w/x"
    home = tmp_path / "home"
    home.mkdir()
    assert value("#{rp ~/x/}", env=env_with(HOME=str(home))) == os.path.realpath(home) + "/x/"


def test_normalize_pathname_keeps_climbing_dotdot():
    assert normalize_pathname("/../a") == "/../a"
    assert normalize_pathname("a/../../b") == "../b"
    assert nice_path("x/./y/", cwd="/base") == "/base/x/y/"


def test_mtrah_uses_toppath_then_env():
    assert value("#{mtrah tests/a}", toppath="/top") == "/top/tests/a"
    assert value("#{mtrah }", env=env_with(MT_RUN_AREA_HOME="/env")) == "/env"
    assert value("#{mtrah x}") == "#f/x"


def test_rget_looks_in_target_then_default():
    text = "[default]\nA dflt\nB dflt\n[t/1]\nA tgt\nE\n[s]\nk #{rget A},#{runconfigs-get B},#{rget E}e,#{rget Z}\n"
    assert rt(text, target="t/1").lookup("s", "k") == "tgt,dflt,e,#f"
    assert rt(text, env=env_with(MT_TARGET="t/1")).lookup("s", "k") == "tgt,dflt,e,#f"
    assert rt(text).lookup("s", "k") == "dflt,dflt,#fe,#f"


def test_a_value_that_expands_to_itself_is_an_error_not_a_hang():
    with pytest.raises(ConfigError, match="does not terminate") as exc:
        rt("[s]\nk #{getenv LOOP}\n", env=env_with(LOOP="x#{getenv LOOP}"))
    assert exc.value.line == 2


def _rget_area(tmp_path):
    (tmp_path / "runconfigs.config").write_text(
        "[default]\nTESTSTORUN t_default\nONLY_DEFAULT d\nFROM_ENV #{getenv HOME_AREA}\n"
        "[ubuntu/nfs]\nTESTSTORUN t_nfs\n"
    )
    test = tmp_path / "tests" / "special"
    test.mkdir(parents=True)
    (test / "testconfig").write_text(
        "[requirements]\nwaiton #{rget TESTSTORUN}\n"
        "[misc]\nd #{rget ONLY_DEFAULT}\ne #{rget FROM_ENV}\nmissing #{rget NOPE}x\n"
    )
    return test


def test_rget_in_a_testconfig_reads_the_runconfigs_target_then_default(tmp_path):
    from megatest.config.testconfig import read_testconfig

    test = _rget_area(tmp_path)
    env = env_with(HOME_AREA="h")
    tc = read_testconfig(test, toppath=tmp_path, mode="launch", env=env, target="ubuntu/nfs")
    assert tc.raw.lookup("requirements", "waiton") == "t_nfs"
    assert tc.raw.lookup("misc", "d") == "d"
    assert tc.raw.lookup("misc", "e") == "h"
    assert tc.raw.lookup("misc", "missing") == "#fx"
    assert "FROM_ENV" not in env  # runconfigs exports stay out of the test's environment


def test_rget_in_a_testconfig_uses_mt_target_and_default_without_one(tmp_path):
    from megatest.config.testconfig import read_testconfig

    test = _rget_area(tmp_path)
    by_env = read_testconfig(test, toppath=tmp_path, mode="launch", env=env_with(MT_TARGET="ubuntu/nfs"))
    assert by_env.raw.lookup("requirements", "waiton") == "t_nfs"
    no_target = read_testconfig(test, toppath=tmp_path, mode="launch", env=env_with())
    assert no_target.raw.lookup("requirements", "waiton") == "t_default"


def test_rget_in_runconfigs_itself_reads_the_config_being_read():
    cfg = read_text("[default]\nA 1\n[t/x]\nA 2\n[default]\nB #{rget A}\n", "runconfigs.config", target="t/x")
    assert cfg.lookup("default", "B") == "2"
