"""Golden examples G1-G11 of the reference (section 8), read in exactly the stated contexts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from megatest.config.reader import Config, read_config

GOLDEN = Path(__file__).parent / "golden"


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment: only PATH (so /bin/sh finds printf/echo) plus the given variables."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(extra)
    return env


def read(name: str, **kw) -> Config:
    cfg = read_config(GOLDEN / name, **kw)
    assert cfg is not None
    return cfg


def test_g1_basic_structure_redefinition_no_equals_semantics():
    env = base_env()
    cfg = read("g1.config", env=env)
    assert cfg.to_json_dict() == {
        "default": {"orphan_key": "value before any section header"},
        "fields": {"RELEASE": "TEXT", "PLATFORM": "TEXT"},
        "setup": {
            "linktree": "/tmp/mt/links",
            "description": "several   spaced   words",
            "nodot": "",
            "KEY=VAL": "",
            "runtimelim": "1h 2m  # not a comment",
            "max_concurrent_jobs": "8",
        },
        "jobtools": {"launcher": "nbfake"},
        "empty section": {},
    }
    assert list(cfg.data) == ["default", "fields", "setup", "jobtools", "empty section"]
    assert env["nodot"] == ""  # a key with no value is always exported
    assert "KEY=VAL" not in env and "KEY" not in env  # not a valid variable name: skipped
    assert cfg.env is env
    assert cfg.diagnostics == []


def test_g2_multiline_values_and_indentation_baseline():
    cfg = read("g2.config", env=base_env())
    assert cfg.to_json_dict() == {
        "logpro": {
            "step1": ';; rules for step1\n(expect:required in "LogFileBody" > 0 "Found it" #/DONE/)'
            '\n  ;; indented deeper: two extra spaces kept\n(expect:error in "LogFileBody" = 0'
            ' "No errors" #/ERROR/)',
            "step2": "\nfirst continuation fixes the lead at four spaces\n  six spaces -> two kept"
            "\n  two spaces -> no four-space run to strip, all kept",
            "step3": "last",
        }
    }


def test_g3_backslash_joining_without_environ_patt():
    cfg = read("g3.config", env=base_env())
    assert cfg.to_json_dict() == {
        "test_meta": {"description": "This test must be run first, really", "tags": "first,single"},
        "env-override": {"LIST": "a b        c d", "AFTER": "ok"},
    }


def test_g3_with_environ_patt_echoes_the_joined_value():
    env = base_env()
    cfg = read("g3.config", env=env, environ_patt="env-override")
    assert cfg.lookup("env-override", "LIST") == "a b c d"
    assert env["LIST"] == "a b c d" and env["AFTER"] == "ok"
    assert "SWALLOWED" not in cfg.section("env-override")


def test_g4_get_getenv_scheme_nesting_missing_and_generated_lines():
    env = base_env(
        USER="matt", WHICHKEY="base", DYNLINE="waiton setup build", MT_RUN_AREA_HOME="/srv/area"
    )
    cfg = read("g4.config", env=env)
    assert cfg.to_json_dict() == {
        "misc": {
            "base": "/opt/area",
            "sub": "/opt/area/sub",
            "sub2": "/opt/area/sub/deeper",
            "user": "matt",
            "nouser": "#f",
            "sum": "42",
            "both": "/opt/area:matt",
            "nested": "/opt/area",
            "missing": "#f",
            "unknown": "#{frob x}",
            "long-realpath": "#{realpath /tmp}",
            "area": "#{mtrah}",
            "areasub": "/srv/area/tests/a",
        },
        "requirements": {"waiton": "setup build", "mode": "toplevel"},
    }


def test_g5_shell_and_system_with_allow_true():
    cfg = read("g5.config", env=base_env(), allow=True)
    assert cfg.to_json_dict() == {
        "items": {
            "CELL": "inv nand2 nor2",
            "EMPTY": " ",
            "RC_OK": "0",
            "RC_BAD": "512",
            "LATE": "aa ab ac",
            "FAIL": "partial",
            "INLINE": "x[system echo no]",
        }
    }
    messages = [(d.line, d.message) for d in cfg.diagnostics]
    assert any(line == 7 and "exit code" in msg for line, msg in messages)  # FAIL prints an error
    assert any(line == 9 and "problem parsing" in msg for line, msg in messages)  # QUOTED dropped


def test_g5_shell_and_system_with_allow_false():
    cfg = read("g5.config", env=base_env(), allow=False)
    assert cfg.to_json_dict() == {
        "items": {
            "CELL": "#{(shell) printf 'inv\\nnand2\\nnor2\\n'}",
            "EMPTY": "#{(sh) true}",
            "RC_OK": "#{(system) true}",
            "RC_BAD": "#{(system) exit 2}",
            "INLINE": "x[system echo no]",
            "QUOTED": '#{(shell) echo "no"}',
        }
    }
    assert cfg.diagnostics == []


def test_g5_return_procs_defers_system_values():
    cfg = read("g5.config", env=base_env(), allow="return-procs")
    late = cfg.lookup("items", "LATE")
    assert not isinstance(late, str) and callable(late)
    assert late() == "aa ab ac"
    assert cfg.lookup("items", "FAIL")() == "partial"


def test_g6_includes_relative_nested_env_built_missing_trailing_space():
    cfg = read("g6.config", env=base_env(SITE="more"))
    assert cfg.to_json_dict() == {
        "setup": {"before": "1", "LINKTREE_FROM_INC": "/tmp/lt", "after": "2", "useshell": "yes"},
        "jobtools": {"useshell": "yes", "launcher": "override"},
    }
    # the missing file and the name with a trailing space are skipped (the original only
    # logs them at debug level); each gets a warning naming the file looked for
    skipped = [d.message for d in cfg.diagnostics]
    assert len(skipped) == 2
    assert all(m.startswith("[include] file not found, skipped:") for m in skipped)
    assert "does-not-exist.config" in skipped[0]


def test_g7a_runconfig_read_with_target_filter_and_precreated_target():
    target = "ubuntu/nfs/none"
    env = base_env(MT_TARGET=target)
    cfg = read("g7.config", env=env, sections=["default", target], precreate=[target])
    assert cfg.to_json_dict() == {
        "ubuntu/nfs/none": {
            "FROM_WILD": "one-percent wildcard",
            "BUILD_DIR": "/builds/nfs",
            "TESTPATT": "smoke%,unit%",
            "BUILD_COPY": "/builds/nfs",
            "DEFAULT_ONLY": "x",
            "FROM_REGEX": "regex section",
        },
        "default": {"TESTPATT": "%", "BUILD_DIR": "/builds/default", "NOVAL": ""},
    }
    assert list(cfg.data["ubuntu/nfs/none"]) == [
        "FROM_WILD", "BUILD_DIR", "TESTPATT", "BUILD_COPY", "DEFAULT_ONLY", "FROM_REGEX"
    ]
    assert env["NOVAL"] == ""
    assert "BUILD_DIR" not in env


def test_g7b_plain_read_without_filter_or_precreation():
    cfg = read("g7.config", env=base_env(MT_TARGET="ubuntu/nfs/none"))
    assert cfg.to_json_dict() == {
        "default": {"TESTPATT": "%", "BUILD_DIR": "/builds/default", "NOVAL": ""},
        "ubuntu/nfs/none": {
            "BUILD_DIR": "/builds/nfs",
            "TESTPATT": "smoke%,unit%",
            "BUILD_COPY": "/builds/nfs",
            "DEFAULT_ONLY": "x",
            "FROM_REGEX": "regex section",
        },
        "centos/afs/none": {"BUILD_DIR": "/builds/afs"},
    }


def test_g7_target_parameter_drives_rget_without_mt_target():
    cfg = read("g7.config", env=base_env(), target="ubuntu/nfs/none")
    assert cfg.lookup("ubuntu/nfs/none", "BUILD_COPY") == "/builds/nfs"


def test_g8_environ_patt_evaluation_and_export():
    env = base_env(HOME="/home/matt")
    cfg = read("g8.config", env=env, environ_patt="env-override", cwd=str(GOLDEN))
    expected_override = {
        "PROJ_HOME": "/home/matt/proj",
        "PROJ_BIN": "/home/matt/proj/bin",
        "QUOTED": "keep   inner   spaces",
        "SPACES": "collapse these spaces",
        "GLOB": "data/a.txt data/b.txt",
        "SINGLE": "$HOME stays literal",
        "TWO_CMDS": "first",
        "EMPTY": "",
        "ML": "line one\nline two",
    }
    assert cfg.to_json_dict() == {
        "env-override": expected_override,
        "setup": {"NOT_EVALUATED": "$HOME/proj"},
    }
    for key, value in expected_override.items():
        assert env[key] == (value if key != "ML" else "line one")
    assert "NOT_EVALUATED" not in env


def test_g9_items_sections_parse():
    cfg = read("g9.config", env=base_env())
    assert cfg.to_json_dict() == {
        "items": {"SEASON": "summer winter", "TEMP": "cool hot"},
        "itemstable": {"VIEW": "layout schematic schematic", "CELL": "ntran ptran"},
    }


def test_g10_testconfig_with_common_include_and_nested_lookup():
    area = GOLDEN / "area"
    cfg = read("area/testconfig", env=base_env(MT_RUN_AREA_HOME=str(area), DEPS="std"))
    assert cfg.to_json_dict() == {
        "ezsteps": {"delay": 'sleep $SPEED;echo "Delayed $SPEED seconds"'},
        "std": {"genlib": "setup", "test1": "genlib"},
        "logpro": {
            "delay": ';; Delay step logpro\n(expect:required in "LogFileBody" > 0 "Delayed message"'
            " #/Delayed \\d+ seconds/)",
            "reviewed": "never",
        },
        "requirements": {"mode": "itemwait", "waiton": "genlib", "itemmap": "/.*"},
        "itemstable": {"VIEW": "layout layout schematic", "CELL": "ntran  ptran  diode"},
        "test_meta": {
            "author": "matt",
            "description": "Uses an included common config and a nested lookup.",
        },
    }


def test_g11_settings_script_include_generated_lines():
    cfg = read("g11.config", env=base_env(WAITON_LINE="waiton build lint"), cwd=str(GOLDEN))
    assert cfg.to_json_dict() == {
        "requirements": {
            "waiton": "build lint",
            "priority": "5   ",
            "runtimelim": "1h 30m",
            "CORNER": "ss ff",
        },
        "items": {"CELL": "inv nand2"},
        "itemstable": {"A": "x y"},
    }
    [diag] = cfg.diagnostics
    assert diag.line == 8 and "not-there.sh" in diag.message
    assert diag.path.endswith("g11.config")


def test_g11_scriptinc_is_looked_up_in_cwd_not_the_config_directory(tmp_path):
    cfg = read("g11.config", env=base_env(WAITON_LINE="waiton x"), cwd=str(tmp_path))
    assert "items" not in cfg.data
    assert len(cfg.diagnostics) == 2


@pytest.mark.parametrize("name", ["g1.config", "g7.config", "g8.config"])
def test_golden_reads_never_touch_os_environ(name):
    before = dict(os.environ)
    read(name, env=base_env(HOME="/h"), environ_patt="env-override", cwd=str(GOLDEN))
    assert dict(os.environ) == before
