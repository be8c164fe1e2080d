"""Includes, script includes, shared settings, wildcard sections, post-section hooks (1.8, 1.11, 1.12)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from megatest.config.reader import Config, read_config, read_config_text
from megatest.errors import ConfigError


def env_with(**extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(extra)
    return env


def write(path: Path, text: str, executable: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def read(path: Path, **kw) -> Config:
    kw.setdefault("env", env_with())
    cfg = read_config(path, **kw)
    assert cfg is not None
    return cfg


# ---------------------------------------------------------------- [include]


def test_include_starts_in_current_section_and_parent_resumes_its_section(tmp_path):
    write(tmp_path / "sub/inc.config", "early 1\n[other]\nlate 2\n")
    main = write(tmp_path / "main.config", "[s]\na 1\n[include sub/inc.config]\nb 2\n")
    assert read(main).to_json_dict() == {"s": {"a": "1", "early": "1", "b": "2"}, "other": {"late": "2"}}


def test_include_of_bare_file_name_resolves_against_cwd(tmp_path):
    write(tmp_path / "area/inc.config", "k from-area\n")
    write(tmp_path / "area/main.config", "[s]\n[include inc.config]\n")
    cfg = read_config(Path("main.config"), env=env_with(), cwd=str(tmp_path / "area"))
    assert cfg is not None and cfg.section("s") == {"k": "from-area"}


def test_include_loop_is_an_error(tmp_path):
    write(tmp_path / "a.config", "[s]\n[include b.config]\n")
    write(tmp_path / "b.config", "x 1\n\n[include a.config]\n")
    with pytest.raises(ConfigError) as exc:
        read(tmp_path / "a.config")
    assert exc.value.path.endswith("b.config") and exc.value.line == 3
    assert "loop" in exc.value.message


def test_self_include_is_an_error(tmp_path):
    p = write(tmp_path / "self.config", "[include self.config]\n")
    with pytest.raises(ConfigError, match="loop"):
        read(p)


def test_including_the_same_file_twice_in_sequence_is_fine(tmp_path):
    write(tmp_path / "inc.config", "n 1\n")
    p = write(tmp_path / "m.config", "[a]\n[include inc.config]\n[b]\n[include inc.config]\n")
    assert read(p).to_json_dict() == {"a": {"n": "1"}, "b": {"n": "1"}}


@pytest.mark.parametrize("line", ["[include ]", "[include sub]", "[include sub/]"])
def test_include_of_a_directory_is_an_error(tmp_path, line):
    (tmp_path / "sub").mkdir()
    p = write(tmp_path / "m.config", f"[s]\n{line}\n")
    with pytest.raises(ConfigError) as exc:
        read(p)
    assert exc.value.path == str(p) and exc.value.line == 2 and "directory" in exc.value.message


def test_include_without_blank_is_a_section_named_include(tmp_path):
    p = write(tmp_path / "m.config", "[include]\nk v\n")
    assert read(p).to_json_dict() == {"include": {"k": "v"}}


def test_include_path_from_directive_and_absolute_path(tmp_path):
    inc = write(tmp_path / "x/abs.config", "k abs\n")
    p = write(tmp_path / "m.config", "[s]\n[include #{getenv INC}]\n")
    assert read(p, env=env_with(INC=str(inc))).section("s") == {"k": "abs"}


def test_errors_in_included_files_name_the_included_file(tmp_path):
    write(tmp_path / "inc.config", "a 1\nb #{get onlyone}\n")
    p = write(tmp_path / "m.config", "[s]\n[include inc.config]\n")
    with pytest.raises(ConfigError) as exc:
        read(p)
    assert exc.value.path == str(tmp_path / "inc.config") and exc.value.line == 2


def test_settings_are_shared_both_ways_with_includes(tmp_path):
    write(tmp_path / "on.config", "[configf:settings trim-trailing-spaces yes]\n")
    write(tmp_path / "use.config", "inc_k v   \n")
    p = write(tmp_path / "m.config", "[s]\nbefore v  \n[include on.config]\nafter v  \n[include use.config]\n")
    assert read(p).section("s") == {"before": "v  ", "after": "v", "inc_k": "v"}


def test_sections_filter_deletes_at_end_of_an_included_file(tmp_path):
    write(tmp_path / "inc.config", "x 1\n")
    text = "[keep]\na 1\n[gone]\nb 2\n{inc}[keep]\nc #{{get gone b}}\n"
    with_inc = write(tmp_path / "m1.config", text.format(inc="[include inc.config]\n"))
    without = write(tmp_path / "m2.config", text.format(inc=""))
    assert read(with_inc, sections=["keep"]).section("keep") == {"a": "1", "c": "#f"}
    assert read(without, sections=["keep"]).section("keep") == {"a": "1", "c": "2"}
    assert read(without, sections=["keep"]).sections() == ["keep"]


# ---------------------------------------------------------------- [scriptinc]


def test_scriptinc_runs_relative_to_cwd_and_parses_output(tmp_path):
    write(tmp_path / "run/gen.sh", '#!/bin/sh\necho "early $1"\necho "[gen]"\necho "k $2"\n', executable=True)
    p = write(tmp_path / "conf/m.config", "[s]\n[scriptinc ./gen.sh A B]\nafter 1\n")
    cfg = read(p, cwd=str(tmp_path / "run"))
    assert cfg.to_json_dict() == {"s": {"early": "A", "after": "1"}, "gen": {"k": "B"}}


def test_scriptinc_missing_or_not_executable_is_a_diagnostic(tmp_path):
    write(tmp_path / "noexec.sh", "#!/bin/sh\necho k v\n")
    p = write(tmp_path / "m.config", "[s]\n[scriptinc ./missing.sh]\n[scriptinc ./noexec.sh]\nk 1\n")
    cfg = read(p, cwd=str(tmp_path))
    assert cfg.section("s") == {"k": "1"}
    assert [(d.line, "not found" in d.message) for d in cfg.diagnostics] == [(2, True), (3, True)]


def test_include_inside_scriptinc_output_is_an_error(tmp_path):
    write(tmp_path / "inc.config", "k 1\n")
    write(tmp_path / "gen.sh", f"#!/bin/sh\necho '[include {tmp_path}/inc.config]'\n", executable=True)
    p = write(tmp_path / "m.config", "[s]\n[scriptinc ./gen.sh]\n")
    with pytest.raises(ConfigError, match="scriptinc"):
        read(p, cwd=str(tmp_path))


# ---------------------------------------------------------------- wildcard / regex sections


def rt(text: str, **kw) -> Config:
    kw.setdefault("env", env_with())
    return read_config_text(text, "w.config", **kw)


def test_pattern_section_reaches_only_sections_that_exist_when_it_closes():
    cfg = rt("[a/x]\nk a\n[a/%]\nk pat\nw 1\n[a/y]\nk y\n")
    assert cfg.to_json_dict() == {"a/x": {"k": "pat", "w": "1"}, "a/y": {"k": "y"}}


def test_target_after_pattern_overrides_and_precreate_makes_order_irrelevant():
    cfg = rt("[a/%]\nk pat\n[a/x]\nk own\n", precreate=["a/x"])
    assert cfg.section("a/x") == {"k": "own"}
    cfg = rt("[a/x]\nk own\n[/a/.*/]\nk regex\n")
    assert cfg.section("a/x") == {"k": "regex"}


def test_only_the_first_percent_is_a_wildcard_and_the_rest_is_regex():
    cfg = rt("[u/n/n]\n[v1x9]\n[%/%/n]\nnever 1\n[v1.%]\nrx 1\n[u/%/n]\nk 1\n")
    # [%/%/n] is the regex `.*/%/n`: it needs a literal % and never reaches u/n/n
    assert cfg.to_json_dict() == {"u/n/n": {"k": "1"}, "v1x9": {"rx": "1"}}


def test_percent_alone_matches_every_section_including_default():
    cfg = rt("d 1\n[s]\n[%]\nall yes\n")
    assert cfg.to_json_dict() == {"default": {"d": "1", "all": "yes"}, "s": {"all": "yes"}}


def test_empty_regex_section_matches_only_the_empty_section_name():
    cfg = rt("[]\n[x]\n[//]\nk v\n")
    assert cfg.to_json_dict() == {"": {"k": "v"}, "x": {}}


def test_invalid_regex_in_pattern_section_is_an_error_naming_its_header():
    with pytest.raises(ConfigError) as exc:
        rt("[s]\nk v\n[a(%]\nx 1\n[t]\n")
    assert exc.value.path == "w.config" and exc.value.line == 3 and "a(%" in exc.value.message


def test_include_started_in_pattern_section_applies_it_inside_the_include(tmp_path):
    write(tmp_path / "inc.config", "z 3\n")
    p = write(tmp_path / "m.config", "[tgt]\na 1\n[%]\nw 1\n[include inc.config]\nv 2\n[other]\n")
    cfg = read(p)
    assert cfg.to_json_dict() == {"tgt": {"a": "1", "w": "1", "z": "3", "v": "2"}, "other": {}}


# ---------------------------------------------------------------- post-section hooks


def test_post_section_procs_fire_when_the_matching_section_closes(tmp_path):
    calls: list[tuple[str, str, str]] = []

    def hook(section: str, new: str, cfg: Config, src: str) -> None:
        calls.append((section, new, ",".join(cfg.section("fields"))))

    write(tmp_path / "inc.config", "[fields]\nZ TEXT\n[after-inc]\n")
    p = write(tmp_path / "m.config", "[fields]\nA TEXT\nB TEXT\n[setup]\n[include inc.config]\n[fields]\n[end]\n")
    read(p, post_section_procs=[("^fields$", hook)])
    # the included file's [fields] closing does not fire; the reopened [fields] does
    assert calls == [("fields", "setup", "A,B"), ("fields", "end", "A,B,Z")]


def test_post_section_proc_does_not_fire_when_fields_is_last():
    calls = []
    rt("[fields]\nA TEXT\n", post_section_procs=[("fields", lambda *a: calls.append(a))])
    assert calls == []


def test_first_header_of_an_included_file_closes_the_parents_pattern_section(tmp_path):
    write(tmp_path / "inc.config", "[b]\nk 1\n")
    p = write(tmp_path / "m.config", "[a]\n[%]\nw 1\n[include inc.config]\n")
    # [%] is applied when [b] opens inside the include: [b] did not exist yet, so it misses it
    assert read(p).to_json_dict() == {"a": {"w": "1"}, "b": {"k": "1"}}


def test_scriptinc_output_with_crlf_line_ends(tmp_path):
    write(tmp_path / "gen.sh", "#!/bin/sh\nprintf '[g]\\r\\na 1\\rb 2\\r\\n'\n", executable=True)
    p = write(tmp_path / "m.config", "[scriptinc ./gen.sh]\n")
    assert read(p, cwd=str(tmp_path)).to_json_dict() == {"g": {"a": "1", "b": "2"}}


def test_relative_path_with_directory_part_is_relative_to_process_cwd(tmp_path, monkeypatch):
    write(tmp_path / "area/inc.config", "k 1\n")
    write(tmp_path / "area/m.config", "[s]\n[include inc.config]\n")
    monkeypatch.chdir(tmp_path)
    cfg = read(Path("area/m.config"), cwd="/nonexistent-cwd-is-only-for-shells")
    assert cfg.section("s") == {"k": "1"}
