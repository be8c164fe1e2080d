"""The original's single-dash query forms, as tests call them through $MT_MEGATEST."""

import json
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_show_config_dumpmode_json(megatest):
    res = megatest("-show-config", "-dumpmode", "json", cwd=DEMO)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["setup"]["max_concurrent_jobs"] == "2"


def test_show_config_section_var_inside_a_test(megatest):
    # a test step runs in its own dir with MT_RUN_AREA_HOME and MT_TARGET set
    res = megatest(
        "-show-config", "-section", "env-override", "-var", "DEMO_BUILD_DIR",
        cwd=Path("/"), MT_RUN_AREA_HOME=str(DEMO), MT_TARGET="ubuntu/gcc12",
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"{DEMO}/runs/build-gcc12\n"


def test_show_runconfig(megatest):
    res = megatest("-show-runconfig", "-target", "rhel8/clang16", "-dumpmode", "json", cwd=DEMO)
    assert json.loads(res.stdout)["rhel8/clang16"]["CC"] == "clang-16"
    bad = megatest("-show-runconfig", "-target", "rhel8", cwd=DEMO)
    assert bad.returncode == 2 and "invalid target 'rhel8'" in bad.stderr


def test_show_keys(megatest):
    assert megatest("-show-keys", cwd=DEMO).stdout == "OS\nCOMPILER\n"


def test_list_targets(megatest):
    assert megatest("-list-targets", cwd=DEMO).stdout == "default\nrhel8/clang16\nubuntu/gcc12\n"
    res = megatest("-list-targets", "-target", "rhel%", cwd=DEMO)
    assert res.stdout == "rhel8/clang16\n"


def test_start_dir_selects_the_area(megatest):
    res = megatest("-show-keys", "-start-dir", str(DEMO))
    assert res.stdout == "OS\nCOMPILER\n"


def test_show_config_with_start_dir(megatest):
    res = megatest("-show-config", "-section", "setup", "-var", "area-name", "-start-dir", str(DEMO))
    assert (res.returncode, res.stdout) == (0, "demo\n")


def test_legacy_execute_without_its_job_says_what_it_needs(megatest):
    # -execute (what a batch job runs on its node) is `test execute`: one line, not a usage
    # dump about `megatest test`
    res = megatest("-execute", cwd=DEMO)
    assert res.returncode == 2
    assert res.stderr == ("megatest: error: test execute needs --job FILE (the job file a "
                          "launcher wrote)\n")
