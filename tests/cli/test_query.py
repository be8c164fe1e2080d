"""`megatest query config|runconfig|keys|targets|area-tests`, through the console script."""

import json
import textwrap
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_config_file_json(megatest, tmp_path):
    f = tmp_path / "x.config"
    f.write_text("[a]\nk1 v1\nk2 héllo  wörld\n[b]\nnov\nhere #{shell pwd}\n")
    res = megatest("query", "config", "--file", str(f), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {
        "a": {"k1": "v1", "k2": "héllo  wörld"},
        "b": {"nov": "", "here": str(tmp_path)},  # shell runs in the current dir
    }
    assert "héllo" in res.stdout  # ensure_ascii=False


def test_config_file_section_var_and_formats(megatest, tmp_path):
    f = tmp_path / "x.config"
    f.write_text("[a]\nk1 v1\nml first\n  second\n[b]\nz 1\n")
    assert megatest("query", "config", "--file", str(f), "--section", "a", "--var", "k1").stdout == "v1\n"
    ini = megatest("query", "config", "--file", str(f), "--section", "a").stdout
    assert ini == "[a]\nk1 v1\nml first\n  second\n"
    text = megatest("query", "config", "--file", str(f), "--format", "text").stdout
    assert text == "a\tk1\tv1\na\tml\tfirst\\nsecond\nb\tz\t1\n"


def test_config_missing_var_and_section(megatest, tmp_path):
    f = tmp_path / "x.config"
    f.write_text("[a]\nk1 v1\n")
    res = megatest("query", "config", "--file", str(f), "--section", "a", "--var", "nope")
    assert (res.returncode, res.stdout) == (1, "")
    assert "nope" in res.stderr
    res = megatest("query", "config", "--file", str(f), "--section", "zz")
    assert res.returncode == 1 and "[zz]" in res.stderr
    res = megatest("query", "config", "--file", str(f), "--var", "k1")
    assert res.returncode == 2 and "--var needs --section" in res.stderr


def test_unknown_format(megatest, tmp_path):
    f = tmp_path / "x.config"
    f.write_text("[a]\n")
    for args in (
        ("query", "config", "--file", str(f), "--format", "yaml"),
        ("query", "keys", "--area", str(DEMO), "--format", "ini"),
    ):
        res = megatest(*args)
        assert res.returncode == 2
        assert res.stderr.strip().startswith("megatest: error: unknown --format")


def test_malformed_config_file_names_file_and_line(megatest, tmp_path):
    f = tmp_path / "bad.config"
    f.write_text("[a]\nk v\n[unterminated\n")
    res = megatest("query", "config", "--file", str(f))
    assert res.returncode == 2
    assert res.stderr.strip() == f"megatest: error: {f}:3: unterminated section header (no ']'): [unterminated"


def test_reader_diagnostics_go_to_stderr_and_exit_2(megatest, tmp_path):
    f = tmp_path / "diag.config"
    f.write_text("[a]\nk v\n[scriptinc ./not-there.sh]\nafter 1\n")
    res = megatest("query", "config", "--file", str(f), "--format", "json")
    assert res.returncode == 2
    assert json.loads(res.stdout) == {"a": {"k": "v", "after": "1"}}  # output still printed
    assert res.stderr.startswith(f"megatest: error: {f}:3: ")


def test_missing_file(megatest, tmp_path):
    res = megatest("query", "config", "--file", str(tmp_path / "nope.config"))
    assert res.returncode == 2 and "nope.config: no such file" in res.stderr


def test_area_config_is_read_as_a_run_reads_it(megatest):
    res = megatest("query", "config", "--area", str(DEMO), "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["setup"]["linktree"] == f"{DEMO}/links"  # MT_RUN_AREA_HOME set before reading
    assert list(data["fields"]) == ["OS", "COMPILER"]
    res = megatest("query", "config", "--section", "env-override", "--var", "DEMO_BUILD_DIR",
                   "--target", "rhel8/clang16", cwd=DEMO / "tests" / "setup")  # walk up
    assert res.stdout == f"{DEMO}/runs/build-clang16\n"


def test_area_from_env_and_root_option(megatest):
    res = megatest("query", "keys", MT_RUN_AREA_HOME=str(DEMO))
    assert res.stdout == "OS\nCOMPILER\n"
    res = megatest("--area", str(DEMO), "query", "keys", "--format", "json")
    assert json.loads(res.stdout) == ["OS", "COMPILER"]


def test_no_area(megatest, tmp_path):
    res = megatest("query", "keys", cwd=tmp_path)
    assert res.returncode == 2 and "no megatest.config" in res.stderr


def test_runconfig(megatest):
    res = megatest("query", "runconfig", "--area", str(DEMO), "--target", "rhel8/clang16",
                   "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {
        "rhel8/clang16": {"CC": "clang-16", "OPTIMIZE": "-O1", "CLANG_TIDY": "yes"},
        "default": {"TESTPATT": "%", "OPTIMIZE": "-O2", "CFLAGS": "-Wall"},
    }
    res = megatest("query", "runconfig", "--area", str(DEMO), "--section", "default",
                   "--var", "CFLAGS", MT_TARGET="ubuntu/gcc12")
    assert res.stdout == "-Wall\n"


def test_runconfig_bad_target_and_reqtarg(megatest):
    res = megatest("query", "runconfig", "--area", str(DEMO), "--target", "ubuntu//gcc12")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "invalid target 'ubuntu//gcc12'" in lines[0] and "OS/COMPILER" in lines[0]
    res = megatest("query", "runconfig", "--area", str(DEMO), "--target", "sles/gcc9", "--reqtarg")
    assert res.returncode == 2
    assert "[sles/gcc9] not found in" in res.stderr and "runconfigs.config" in res.stderr
    ok = megatest("query", "runconfig", "--area", str(DEMO), "--target", "sles/gcc9")
    assert ok.returncode == 0 and "[default]" in ok.stdout
    res = megatest("query", "runconfig", "--area", str(DEMO))
    assert res.returncode == 2 and "no target" in res.stderr


def test_targets(megatest):
    res = megatest("query", "targets", "--area", str(DEMO))
    assert res.stdout == "default\nrhel8/clang16\nubuntu/gcc12\n"
    res = megatest("query", "targets", "--area", str(DEMO), "--target", "%gcc%", "--format", "json")
    assert json.loads(res.stdout) == ["ubuntu/gcc12"]


def test_area_tests_demo(megatest):
    res = megatest("query", "area-tests", "--area", str(DEMO), "--target", "ubuntu/gcc12",
                   "--format", "json")
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)
    tests = {t["name"]: t for t in plan["tests"]}
    assert list(tests) == ["compile", "matrix", "regress", "setup", "smoke"]
    assert tests["compile"]["items"] == ["O0/debug", "O0/release", "O2/debug", "O2/release"]
    assert tests["matrix"]["items"] == ["small/1", "medium/2", "large/-"]
    assert tests["regress"]["waiton"] == ["compile", "matrix"]
    assert tests["regress"]["mode"] == ["itemwait"]
    assert tests["setup"] == {
        "name": "setup", "itemized": False, "items": [], "selected": True, "waiton": [],
        "waitor": [], "mode": ["normal"], "priority": 0, "tags": ["quick", "setup"],
    }


def test_area_tests_pattern_pulls_in_waitons(megatest):
    res = megatest("query", "area-tests", "--area", str(DEMO), "--target", "ubuntu/gcc12",
                   "--testpatt", "compile/O2%", "--format", "json")
    plan = json.loads(res.stdout)
    tests = {t["name"]: t for t in plan["tests"]}
    assert list(tests) == ["compile", "setup"]  # setup pulled in as a waiton
    assert tests["compile"]["items"] == ["O2/debug", "O2/release"]
    assert tests["setup"]["selected"]
    res = megatest("query", "area-tests", "--area", str(DEMO), "--target", "ubuntu/gcc12",
                   "--tagexpr", "smoke")
    assert res.stdout.splitlines()[1:] == ["setup", "smoke  (waits on setup)"]


def test_area_tests_testpatt_from_runconfigs(megatest, tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nA TEXT\n")
    (tmp_path / "runconfigs.config").write_text("[default]\nTESTPATT b\nMINE a\n[x]\n")
    for name, text in {"a": "", "b": "[items]\nK 1 2\n"}.items():
        (tmp_path / "tests" / name).mkdir(parents=True)
        (tmp_path / "tests" / name / "testconfig").write_text(textwrap.dedent(text))
    run = ["query", "area-tests", "--area", str(tmp_path), "--target", "x", "--format", "json"]
    assert [t["name"] for t in json.loads(megatest(*run).stdout)["tests"]] == ["b"]
    res = megatest(*run, "--modepatt", "MINE")
    assert [t["name"] for t in json.loads(res.stdout)["tests"]] == ["a"]
    res = megatest(*run, "--modepatt", "NOPE")
    assert json.loads(res.stdout)["tests"] == []


def test_area_tests_unknown_waiton_is_reported(megatest, tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nA TEXT\n")
    (tmp_path / "tests" / "a").mkdir(parents=True)
    (tmp_path / "tests" / "a" / "testconfig").write_text("[requirements]\nwaiton ghost\n")
    res = megatest("query", "area-tests", "--area", str(tmp_path))
    assert res.returncode == 2
    assert "ghost" in res.stderr and res.stdout.splitlines()[1] == "a"


def test_fast_path_and_typer_path_agree(megatest):
    fast = megatest("--area", str(DEMO), "query", "config", "--format", "json")
    # `--format=json` is not taken by the fast path: Typer answers it
    slow = megatest("--area", str(DEMO), "query", "config", "--format=json")
    assert fast.returncode == slow.returncode == 0
    assert json.loads(fast.stdout) == json.loads(slow.stdout)
    assert json.loads(fast.stdout)["setup"]["area-name"] == "demo"


def test_reader_that_closes_early_gets_no_traceback(tmp_path):
    """`megatest query config | head`: the reader leaves before the output is written;
    the command must end quietly (no BrokenPipeError traceback on stderr)."""
    import os
    import subprocess
    import sys

    script = Path(sys.executable).parent / "megatest"
    (tmp_path / "megatest.config").write_text(
        "[s]\n" + "".join(f"key{i} value {i}\n" for i in range(20000))
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
    for args in (["query", "config", "--file", "megatest.config"], ["-show-config"]):
        proc = subprocess.Popen(
            [str(script), *args],
            cwd=tmp_path,
            env={**env, "MT_RUN_AREA_HOME": str(tmp_path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        proc.stdout.close()  # before the interpreter has even started: the write must fail
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
        assert "Traceback" not in err, err
        assert proc.returncode != 0


def test_area_tests_failing_system_items_command_is_reported(megatest, tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nA TEXT\n")
    (tmp_path / "tests" / "a").mkdir(parents=True)
    tc = tmp_path / "tests" / "a" / "testconfig"
    tc.write_text("[items]\nX [system echo aa; exit 3]\n")
    res = megatest("query", "area-tests", "--area", str(tmp_path))
    assert res.returncode == 2
    assert res.stdout.splitlines()[1:] == ["a", "  aa"]
    assert res.stderr.strip() == (
        f"megatest: error: {tc}:2: [system echo aa; exit 3] returned bad exit code 3"
    )
