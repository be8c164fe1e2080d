import os
import subprocess

from megatest.executor.environment import (
    TestEnvInputs,
    build_test_env,
    csh_quote,
    item_info,
    launcher_env,
    parse_setvars,
    sh_quote,
    shell_echo_values,
    write_env_snapshots,
)


def inputs(**kw) -> TestEnvInputs:
    base = dict(
        base_env={"PATH": "/usr/bin:/bin", "HOME": "/home/u", "MT_TARGET": "stale"},
        toppath="/area",
        area_name="suite",
        keyvals=[("ARCH", "x86"), ("OS", "linux")],
        runname="r1",
        test_name="t1",
        run_dir="/lt/x86/linux/r1/t1/a/b",
        linktree="/lt",
        megatest="/opt/mt/bin/megatest",
        item_vars=[("SEASON", "summer"), ("TOCK", "1")],
    )
    base.update(kw)
    return TestEnvInputs(**base)


def test_required_mt_variables():
    env = build_test_env(inputs(cmdinfo="ENC"))
    assert env["MT_CMDINFO"] == "ENC"
    assert env["MT_TESTSUITENAME"] == "suite"
    assert env["MT_RUN_AREA_HOME"] == "/area"
    assert env["MT_TEST_RUN_DIR"] == "/lt/x86/linux/r1/t1/a/b"
    assert env["MT_TEST_NAME"] == "t1"
    assert env["MT_ITEMPATH"] == "summer/1"
    assert env["MT_ITEM_INFO"] == "((SEASON summer) (TOCK 1))"
    assert env["MT_RUNNAME"] == "r1"
    assert env["MT_MEGATEST"] == "/opt/mt/bin/megatest"
    assert env["MT_TARGET"] == "x86/linux"  # the stale inherited value is replaced
    assert env["MT_LINKTREE"] == "/lt"
    assert env["ARCH"] == "x86" and env["OS"] == "linux"
    assert env["SEASON"] == "summer" and env["TOCK"] == "1"
    assert env["PATH"] == "/usr/bin:/bin:/opt/mt/bin"


def test_non_itemized_item_info():
    assert item_info([]) == "()"
    env = build_test_env(inputs(item_vars=[]))
    assert env["MT_ITEMPATH"] == "" and env["MT_ITEM_INFO"] == "()"


def test_precedence_follows_reference_order():
    env = build_test_env(inputs(
        runconfig_default=[("V", "default"), ("SEASON", "from-runconfig"), ("W", "d")],
        runconfig_target=[("V", "target")],
        setvars="W=setvar,BAD,X=1=2,MT_RUNNAME=hijack",
        env_override=[("EO", "override"), ("V", "override-wins")],
    ))
    assert env["V"] == "override-wins"  # env-override is applied after runconfigs
    assert env["W"] == "setvar"  # -setvars after runconfigs
    assert "X" not in env and "BAD" not in env  # only exact two-part pairs
    assert env["MT_RUNNAME"] == "r1"  # the required set comes after -setvars
    assert env["SEASON"] == "summer"  # item variables come last
    assert env["EO"] == "override"


def test_order_of_keys_is_order_of_last_assignment():
    env = build_test_env(inputs(runconfig_default=[("RC", "1")]))
    keys = list(env)
    assert keys.index("HOME") < keys.index("RC") < keys.index("MT_TEST_NAME")
    assert keys.index("MT_TESTSUITENAME") < keys.index("PATH")  # PATH extended in step 10
    assert keys.index("MT_TEST_NAME") < keys.index("MT_RUN_AREA_HOME")  # re-set in step 12
    assert keys[-2:] == ["SEASON", "TOCK"]


def test_runconfig_values_are_shell_echo_evaluated_in_order(tmp_path):
    env = build_test_env(
        inputs(runconfig_default=[("A", "$MT_RUN_AREA_HOME/x"), ("B", "$A/y"),
                                  ("C", "'two  spaces'"), ("D", "\"$(printf 'l1\\nl2')\""),
                                  ("E", "a   b"), ("F", "plain-value_1.2")],
               runconfig_target=[("A2", "`echo hi`"), ("BROKEN", "'unbalanced"), ("G", "after")]),
        cwd=str(tmp_path),
    )
    assert env["A"] == "/area/x"
    assert env["B"] == "/area/x/y"
    assert env["C"] == "two  spaces"
    assert env["D"] == "l1"  # first line only
    assert env["E"] == "a b"  # echo word splitting
    assert env["F"] == "plain-value_1.2"
    assert env["A2"] == "hi"
    assert env["BROKEN"] == ""  # a shell syntax error spoils only this value
    assert env["G"] == "after"


def test_shell_echo_does_not_touch_runner_environment():
    before = dict(os.environ)
    shell_echo_values([("MTX_SHOULD_NOT_LEAK", "$HOME")], {"HOME": "/h"})
    build_test_env(inputs(runconfig_default=[("MTX_LEAK2", "x y")]))
    assert dict(os.environ) == before


def test_parse_setvars():
    assert parse_setvars("A=1,B=2") == [("A", "1"), ("B", "2")]
    assert parse_setvars("A=1=2,C,=x") == [("", "x")]
    assert parse_setvars(None) == []


def test_launcher_env_has_pre_launch_overrides():
    env = launcher_env(inputs(), [("PRE", "1"), ("MT_TEST_NAME", "overridden")])
    assert env["PRE"] == "1" and env["MT_TEST_NAME"] == "overridden"
    assert env["MT_TARGET"] == "x86/linux"


def test_quoting_round_trips_through_sh():
    nasty = "it's \"quoted\" $HOME `x` \\ !bang\nline2"
    out = subprocess.run(["/bin/sh", "-c", f"printf %s {sh_quote(nasty)}"], capture_output=True, text=True)
    assert out.stdout == nasty
    assert csh_quote("a'b!c") == "'a'\"'\"'b\\!c'"


def test_snapshots_are_sourceable_and_complete(tmp_path):
    env = build_test_env(inputs(runconfig_default=[("Q", "\"'it's' $x\"")]))
    env["WEIRD"] = "a'b\nc $d"
    sh, csh = write_env_snapshots(env, tmp_path)
    assert sh.name == "megatest.sh" and csh.name == "megatest.csh"
    text = sh.read_text()
    assert "# export HOME=" in text  # user-specific variables are commented out
    out = subprocess.run(
        ["/bin/sh", "-c", f". {sh}; printf '%s|%s|%s' \"$WEIRD\" \"$MT_ITEM_INFO\" \"$Q\""],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
    )
    assert out.stdout == f"{env['WEIRD']}|((SEASON summer) (TOCK 1))|{env['Q']}"
    assert "setenv MT_TEST_NAME 't1'" in csh.read_text()
    lines = [ln.split("=", 1)[0] for ln in text.splitlines() if ln.startswith("export ")]
    assert lines.index("export MT_TEST_NAME") < lines.index("export SEASON")
