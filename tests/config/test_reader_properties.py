"""Property tests: whatever text the config reader is given, it returns a Config or raises a
MegatestError (a one-line message for the user), never another exception.

Reads use allow=False, so no shell directive or [system] value runs whatever text hypothesis
makes up, and the cwd is an empty temporary folder ([scriptinc] finds nothing to run).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from megatest.config.reader import Config, read_config, read_config_text
from megatest.errors import ConfigError, MegatestError

GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_TEXTS = [p.read_text() for p in sorted(GOLDEN.glob("g*.config"))]

# Pieces of the config language, to reach the parser's branches more often than random text.
FRAGMENTS = [
    "[setup]", "[default]", "[%]", "[/a.*/]", "[/(/]", "[ubuntu/%/none]", "[include x.config]",
    "[include ]", "[include ../g1.config]", "[scriptinc ./nope.sh]", "[system echo hi]",
    "key value", "KEY", "k [system true]", "  continued", "\tcontinued", "# comment", "",
    "#{get setup key}", "#{get a}", "#{g}", "#{getenv HOME}", "#{rget k}", "#{shell echo x}",
    "#{scheme (+ 1 2)}", "#{scheme (car '())}", "#{scheme (", "#{frob x}", "#{", "}", "\\",
    "[configf:settings trim-trailing-spaces yes]", "[configf:settings]", "[env-override]",
    "X #{get env-override X}", "[", "]", "=", "\x00", "\r", "\u00a0", "\udcff",
    "#{scheme (string-append \"a\" 1)}", "#{scheme (let loop ((i 0)) (loop i))}",
]

line = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30))
config_text = st.lists(line, max_size=25).map("\n".join)

settings_fast = settings(max_examples=200, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read(text: str, folder: Path) -> Config | None:
    try:
        return read_config_text(text, str(folder / "t.config"), allow=False,
                                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                                cwd=str(folder))
    except MegatestError as exc:
        assert "\n" not in exc.one_line()
        return None


@settings_fast
@given(text=config_text)
@example(text="[include ]")
@example(text="#{scheme (let loop ((i 0)) (loop i))}")
def test_any_config_text_reads_or_is_a_megatest_error(tmp_path, text):
    _read(text, tmp_path)


@st.composite
def mutated_golden(draw):
    text = draw(st.sampled_from(GOLDEN_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 20))
        insert = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)))
        text = text[:at] + insert + text[at + cut:]
    return text


@settings_fast
@given(text=mutated_golden())
def test_mutated_golden_configs_read_or_are_a_megatest_error(tmp_path, text):
    # golden/ as the folder: the golden files' relative includes still resolve
    _read(text, GOLDEN / "configs")


def test_includes_nested_500_deep_are_one_config_error_naming_the_depth(tmp_path):
    for i in range(500):
        (tmp_path / f"c{i}.config").write_text(f"[s{i}]\nk{i} v\n[include c{i + 1}.config]\n")
    (tmp_path / "c500.config").write_text("last yes\n")
    with pytest.raises(ConfigError) as caught:
        read_config(tmp_path / "c0.config", env={})
    message = caught.value.one_line()
    assert message.startswith(f"{tmp_path / 'c64.config'}:3: includes nested more than 64 deep")
    assert "\n" not in message


def test_includes_nested_a_little_are_read(tmp_path):
    for i in range(20):
        (tmp_path / f"c{i}.config").write_text(f"[include c{i + 1}.config]\n")
    (tmp_path / "c20.config").write_text("[s]\nlast yes\n")
    cfg = read_config(tmp_path / "c0.config", env={})
    assert cfg is not None and cfg.lookup("s", "last") == "yes"


def test_a_missing_include_is_a_warning_with_file_and_line(tmp_path):
    cfg = read_config_text("[s]\na 1\n[include nothere.config]\nb 2\n",
                           str(tmp_path / "m.config"), env={})
    assert cfg.to_json_dict() == {"s": {"a": "1", "b": "2"}}
    assert [str(d) for d in cfg.diagnostics] == [
        f"{tmp_path / 'm.config'}:3: [include] file not found, skipped: "
        f"'{tmp_path / 'nothere.config'}'"
    ]
