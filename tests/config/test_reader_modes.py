"""allow-system modes, `KEY [system]` values and the sections filter quirks (1.7, 1.9)."""

from __future__ import annotations

from readertools import env_with, read_text

from megatest.config.reader import Config, Deferred


def rt(text: str, **kw) -> Config:
    return read_text(text, "m.config", **kw)


def test_system_value_joins_output_lines_with_one_space_including_empty_and_cr_lines():
    cfg = rt("[s]\na [system printf 'x\\n\\ny\\n']\nb [system printf 'a\\r\\nb\\rc']\nc [system true]\n")
    assert cfg.section("s") == {"a": "x  y", "b": "a b c", "c": ""}


def test_system_command_runs_to_last_bracket_after_expansion():
    cfg = rt("[s]\nk [system echo #{getenv X} [y]]\n", env=env_with(X="ex"))
    assert cfg.lookup("s", "k") == "ex [y]"


def test_system_command_uses_env_mapping_and_cwd(tmp_path):
    cfg = rt("[s]\nk [system echo $ONLY_HERE; pwd]\n", env=env_with(ONLY_HERE="yes"), cwd=str(tmp_path))
    assert cfg.lookup("s", "k") == f"yes {tmp_path}"


def test_allow_false_drops_system_lines_and_keeps_other_directives():
    cfg = rt("[s]\nk [system echo hi]\ng #{getenv X}\nsh #{shell echo x}\n", allow=False, env=env_with(X="1"))
    assert cfg.section("s") == {"g": "1", "sh": "#{(shell) echo x}"}


def test_return_procs_defers_the_command_until_called(tmp_path):
    marker = tmp_path / "ran"
    env = env_with(LATER="before")
    cfg = rt(f"[s]\nk [system touch {marker}; echo $LATER]\nsh #{{sh echo now}}\n",
             allow="return-procs", env=env)
    value = cfg.lookup("s", "k")
    assert isinstance(value, Deferred) and value.cmd == f"touch {marker}; echo $LATER"
    assert not marker.exists()
    assert cfg.lookup("s", "sh") == "now"  # #{} directives still run at read time
    env["LATER"] = "after"
    assert value() == "after"
    assert marker.exists()
    assert cfg.to_json_dict()["s"]["k"].startswith("#<procedure")


def test_return_string_mode_stores_raw_text_and_bare_command():
    cfg = rt("[s]\nk [system echo hi]\ng #{getenv X}\n", allow="return-string", env=env_with(X="1"))
    assert cfg.section("s") == {"k": "echo hi", "g": "#{getenv X}"}


def test_sections_filter_off_by_one_rights_after_a_header():
    text = (
        "[default]\nA 1\n[other]\nB #{shell echo other}\n[tgt]\nC #{shell echo first}\n"
        "D #{shell echo second}\n"
    )
    cfg = rt(text, sections=["default", "tgt"])
    assert cfg.to_json_dict() == {
        "default": {"A": "1"},
        "tgt": {"C": "#{(shell) echo first}", "D": "second"},
    }


def test_sections_filter_system_line_right_after_header_uses_its_own_section():
    cfg = rt("[other]\nx 1\n[tgt]\nE [system echo sys]\n[other]\nF [system echo no]\n", sections=["tgt"])
    assert cfg.to_json_dict() == {"tgt": {"E": "sys"}}


def test_sections_filter_first_line_of_top_file_has_no_rights():
    assert rt("A #{shell echo hi}\n", sections=["default"]).section("default") == {
        "A": "#{(shell) echo hi}"
    }
    assert rt("A #{shell echo hi}\n").section("default") == {"A": "hi"}


def test_return_string_with_sections_expands_lines_that_have_no_rights():
    text = "[tgt]\nA #{getenv FOO}\n[other]\nB x\n[tgt]\nC #{getenv FOO}\nD #{getenv FOO}\n"
    cfg = rt(text, allow="return-string", sections=["tgt"], env=env_with(FOO="foo"))
    assert cfg.to_json_dict() == {"tgt": {"A": "#{getenv FOO}", "C": "foo", "D": "#{getenv FOO}"}}


def test_sections_filter_deletes_default_unless_named():
    cfg = rt("d 1\n[keep]\nk 1\n[drop]\nx 1\n", sections=["keep"])
    assert cfg.to_json_dict() == {"keep": {"k": "1"}}


def test_sections_filter_keeps_reading_every_line_into_its_own_section_until_the_end():
    cfg = rt("[drop]\nx 1\n[keep]\ny #{get drop x}\n", sections=["keep"])
    assert cfg.to_json_dict() == {"keep": {"y": "1"}}


def test_failing_system_value_is_kept_with_a_diagnostic():
    cfg = rt("[s]\nk [system echo partial; exit 3]\n")
    assert cfg.lookup("s", "k") == "partial"
    [d] = cfg.diagnostics
    assert d.path == "m.config" and d.line == 2 and "exit code 3" in d.message


def test_deferred_system_with_bad_exit_keeps_output_and_reports_its_line():
    cfg = rt("[items]\nOK [system echo a b]\nX [system echo aa; exit 3]\n", allow="return-procs")
    assert cfg.diagnostics == []  # nothing runs at read time
    assert cfg.lookup("items", "OK")() == "a b"
    assert cfg.diagnostics == []
    assert cfg.lookup("items", "X")() == "aa"
    assert [str(d) for d in cfg.diagnostics] == [
        "m.config:3: [system echo aa; exit 3] returned bad exit code 3"
    ]
