"""testconfig: read environments (reference 4.1) and the typed model (4.2, 4.3, 5)."""

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from megatest.config.items import Item
from megatest.config.testconfig import EzStep, read_testconfig
from megatest.errors import ConfigError

GOLDEN = Path(__file__).parent / "golden"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
    env.update(extra)
    return env


def make_test(top: Path, name: str, text: str) -> Path:
    folder = top / "tests" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "testconfig").write_text(textwrap.dedent(text))
    return folder


def test_g10_realistic_testconfig(tmp_path):
    shutil.copytree(GOLDEN / "area", tmp_path / "area")
    top = tmp_path / "area"
    tc = read_testconfig(top, toppath=top, env=clean_env(DEPS="std"), mode="launch")
    assert tc.name == "area"
    assert tc.waiton == ["genlib"]
    assert tc.modes == ["itemwait"]
    assert [i.path for i in tc.items()] == ["layout/ntran", "layout/ptran", "schematic/diode"]
    assert tc.itemmaps == [("%", "/.*")]
    assert tc.map_item_path("genlib", "layout/ntran") == "layout"
    assert tc.ezsteps == [EzStep("delay", 'sleep $SPEED;echo "Delayed $SPEED seconds"', None)]
    assert tc.logpro_for("delay").startswith(";; Delay step logpro\n(expect:required")
    assert tc.test_meta["author"] == "matt"
    assert "reviewed" not in tc.test_meta  # the gotcha: it landed in [logpro]


def test_waiton_unknown_dropped_self_removed(tmp_path):
    folder = make_test(
        tmp_path,
        "b",
        """\
        [requirements]
        waiton a b nosuch a
        waitor c
        """,
    )
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env(), known_tests=["a", "b", "c"])
    assert tc.waiton == ["a"]
    assert tc.waitor == ["c"]
    messages = " | ".join(d.message for d in tc.diagnostics)
    assert "nosuch" in messages and "itself" in messages


def test_requirements_model(tmp_path):
    folder = make_test(
        tmp_path,
        "t",
        """\
        [requirements]
        mode toplevel itemmatch bogus
        priority high
        runtimelim 1h 30m
        [itemmap]
        other (.*)/x \\1
        """,
    )
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env())
    assert tc.modes == ["toplevel", "itemwait"]  # itemmatch is itemwait; unknown dropped
    assert any("bogus" in d.message for d in tc.diagnostics)
    assert tc.priority == 0  # not a number
    assert tc.runtimelim == 5400
    assert tc.itemmap_for("other") == "(.*)/x \\1"
    assert tc.itemmap_for("third") is None
    assert tc.map_item_path("other", "a/x") == "a"
    assert tc.map_item_path("third", "a/x") == "a/x"


def test_defaults(tmp_path):
    folder = make_test(tmp_path, "plain", "[ezsteps]\nstep1 echo hi\n")
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env())
    assert tc.waiton == [] and tc.modes == ["normal"] and tc.priority == 0
    assert tc.runtimelim is None and tc.skip is None and tc.runscript is None
    assert not tc.itemized and tc.items() == [Item(())]
    assert tc.disks is None and tc.tags == [] and tc.jobgroup is None


def test_skip_only_the_first_key_in_priority_order(tmp_path):
    folder = make_test(
        tmp_path,
        "s",
        """\
        [skip]
        rundelay 15m 15s
        fileexists flagfile
        """,
    )
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env())
    assert tc.skip.kind == "fileexists"
    assert tc.skip.path == folder / "flagfile"  # relative to the test's source dir
    folder = make_test(tmp_path, "r", "[skip]\nrundelay 15m 15s\n")
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env())
    assert (tc.skip.kind, tc.skip.seconds) == ("rundelay", 915)
    folder = make_test(tmp_path, "p", "[skip]\nfileexists /x\nprevrunning\n")
    assert read_testconfig(folder, toppath=tmp_path, env=clean_env()).skip.kind == "prevrunning"


def test_ezsteps_params_stripped_and_multiline_refused(tmp_path):
    folder = make_test(
        tmp_path,
        "e",
        """\
        [ezsteps]
        first {k=v}  echo one
        second echo two; \\
          echo three
        """,
    )
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env())
    assert tc.ezsteps == [
        EzStep("first", "echo one", "k=v"),
        EzStep("second", "echo two;   echo three", None),
    ]
    # continuation lines make one script, indentation beyond the first one's kept
    folder = make_test(tmp_path, "multi", "[ezsteps]\nstep {p} for i in 1; do\n  echo a\n    echo b\n  done\n")
    assert read_testconfig(folder, toppath=tmp_path, env=clean_env()).ezsteps == [
        EzStep("step", "for i in 1; do\necho a\n  echo b\ndone", "p")]


def test_meta_triggers_disks_runscript_overrides(tmp_path):
    folder = make_test(
        tmp_path,
        "m",
        """\
        [setup]
        runscript main.sh
        [test_meta]
        tags quick, slow,x
        jobgroup builders
        [triggers]
        COMPLETED/PASS onpass.sh
        COMPLETED/ oncomplete.sh
        /FAIL onfail.sh
        [disks]
        d1 /tmp
        [pre-launch-env-overrides]
        QUEUE short
        """,
    )
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env())
    assert tc.tags == ["quick", " slow", "x"]  # comma list, spaces kept
    assert tc.jobgroup == "builders"
    assert tc.triggers_for("COMPLETED", "PASS") == ["onpass.sh", "oncomplete.sh"]
    assert tc.triggers_for("RUNNING", "FAIL") == ["onfail.sh"]
    assert tc.disks == {"d1": "/tmp"}
    assert tc.runscript == "main.sh"
    assert tc.pre_launch_env_overrides == {"QUEUE": "short"}


def test_plan_mode_defers_system_items_and_exports_prelaunch_vars(tmp_path):
    folder = make_test(
        tmp_path,
        "d",
        """\
        [pre-launch-env-vars]
        FROM_TEST $MT_TEST_NAME-x
        [items]
        K [system echo aa ab; echo ac]
        """,
    )
    env = clean_env()
    tc = read_testconfig(folder, toppath=tmp_path, env=env, mode="plan")
    assert tc.items_deferred
    assert env["FROM_TEST"] == "d-x"  # MT_TEST_NAME set before the read; exported into env
    assert env["MT_TEST_NAME"] == "d"
    assert [i.path for i in tc.items()] == ["aa", "ab", "ac"]
    launch = read_testconfig(folder, toppath=tmp_path, env=clean_env(), mode="launch")
    # a launch does not run the items' command again (once per item would be O(n) each);
    # the items are still there when asked for
    assert launch.items_deferred
    assert [i.path for i in launch.items()] == ["aa", "ab", "ac"]


def test_launch_mode_runs_system_outside_the_items(tmp_path):
    marker = tmp_path / "ran"
    folder = make_test(
        tmp_path,
        "m",
        f"""\
        [items]
        K [system touch {marker}-items; echo a]
        [misc]
        V [system touch {marker}-misc; echo v]
        """,
    )
    launch = read_testconfig(folder, toppath=tmp_path, env=clean_env(), mode="launch")
    assert launch.raw.lookup("misc", "V") == "v"
    assert (tmp_path / "ran-misc").exists() and not (tmp_path / "ran-items").exists()


def test_launch_mode_sees_item_variables(tmp_path):
    folder = make_test(
        tmp_path,
        "l",
        """\
        [items]
        SEASON summer winter
        [misc]
        seen #{getenv SEASON}/#{getenv MT_ITEMPATH}/#{getenv MT_RUNNAME}
        """,
    )
    item = Item((("SEASON", "winter"),))
    env = clean_env()
    tc = read_testconfig(folder, toppath=tmp_path, env=env, mode="launch", item=item, runname="r1")
    assert tc.raw.lookup("misc", "seen") == "winter/winter/r1"
    assert env["MT_ITEM_INFO"] == "((SEASON winter))"
    planned = read_testconfig(folder, toppath=tmp_path, env=clean_env(), mode="plan")
    assert planned.raw.lookup("misc", "seen") == "#f/#f/#f"  # item variables not set yet


def test_raw_mode_runs_no_shell(tmp_path):
    folder = make_test(tmp_path, "w", "[misc]\nx #{shell echo hi}\n[items]\nK [system echo a]\n")
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env(), mode="raw")
    assert tc.raw.lookup("misc", "x") == "#{(shell) echo hi}"
    assert tc.raw.lookup("items", "K") is None


def test_missing_testconfig_and_bad_itemmap(tmp_path):
    (tmp_path / "tests" / "empty").mkdir(parents=True)
    with pytest.raises(ConfigError, match="has no testconfig"):
        read_testconfig(tmp_path / "tests" / "empty", toppath=tmp_path, env=clean_env())
    folder = make_test(tmp_path, "bm", "[requirements]\nitemmap a(b\n")
    with pytest.raises(ConfigError, match="invalid itemmap regex") as exc:
        read_testconfig(folder, toppath=tmp_path, env=clean_env())
    assert exc.value.path == str(folder / "testconfig")


def test_relative_paths_are_resolved_from_the_process_cwd(tmp_path, monkeypatch):
    folder = make_test(tmp_path, "rel", "[requirements]\nwaiton x\n")
    monkeypatch.chdir(tmp_path)
    tc = read_testconfig("tests/rel", toppath=".", env=clean_env())
    assert tc.waiton == ["x"] and tc.test_dir == folder.resolve()


def test_pre_launch_env_vars_are_exported_by_the_launch_under_the_overrides(tmp_path):
    folder = make_test(
        tmp_path,
        "p",
        """\
        [pre-launch-env-vars]
        GREETING hello-$MT_TEST_NAME
        BOTH from-vars
        [pre-launch-env-overrides]
        BOTH from-overrides
        """,
    )
    tc = read_testconfig(folder, toppath=tmp_path, env=clean_env())
    assert tc.pre_launch_env_overrides == {"GREETING": "hello-p", "BOTH": "from-overrides"}
