"""megatest.config: the area read (reference 2.1) and the typed model's defaults (2.2)."""

import os
import textwrap
from pathlib import Path

import pytest

from megatest.config.area import find_area, locate_area, open_area
from megatest.config.megatest_config import (
    DEFAULT_CLEANRERUN_STATES,
    DEFAULT_CLEANRERUN_STATUSES,
    parse_number,
    parse_target,
    read_megatest_config,
)
from megatest.errors import ConfigError, UsageError

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def write_area(tmp_path: Path, text: str) -> Path:
    (tmp_path / "megatest.config").write_text(textwrap.dedent(text))
    return tmp_path


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
    env.update(extra)
    return env


def test_defaults_of_an_almost_empty_config(tmp_path):
    top = write_area(tmp_path, "[fields]\nA TEXT\n")
    mc = read_megatest_config(top, env=clean_env())
    assert mc.fields == ["A"]
    s = mc.setup
    assert s.max_concurrent_jobs == 1  # the code's default, not the manual's "no limit"
    assert s.deadtime == 7200
    assert s.minspace == 10000
    assert s.runqueue == 1 and s.maxretries == 100
    assert s.launch_delay == 0 and s.launchwait and not s.run_wait
    assert s.runtimelim is None and s.linktree == str(top / "lt")  # no linktree: <area>/lt
    assert s.give_up_waiting == 36000 and s.dbdir_space_required == 100000
    assert s.area_name == tmp_path.name
    assert s.rerun_passes == 1 and s.use_cache
    assert mc.jobtools.launcher is None and mc.jobtools.useshell and not mc.jobtools.flexi_launcher
    assert mc.jobtools.waitdelay == 60
    assert mc.cleanrerun_states == list(DEFAULT_CLEANRERUN_STATES)
    assert mc.cleanrerun_statuses == list(DEFAULT_CLEANRERUN_STATUSES)
    assert mc.server.lowport == 32768 and mc.server.timeout_seconds == 300
    assert mc.archive.bup == "bup" and mc.archive.compress == 9 and mc.archive.minspace_mb == 1000
    assert mc.tests_paths == [tmp_path.resolve() / "tests"]


def test_setup_values_are_typed(tmp_path):
    top = write_area(
        tmp_path,
        """\
        [setup]
        max_concurrent_jobs 4
        launch-delay 0.5
        runtimelim 1h 2m 3s
        deadtime 60
        reruns 0
        allow-auto-rerun /INCOMPLETE KILLED/
        run-wait yes
        launchwait no
        testsuite suite-name
        minspace notanumber
        [jobtools]
        launcher nbfake
        useshell no
        maxload 1.5
        [validvalues]
        cleanrerun-states KILLED,STUCK
        state start end
        [jobgroups]
        builders 2
        broken lots
        [server]
        timeout 2
        """,
    )
    mc = read_megatest_config(top, env=clean_env())
    s = mc.setup
    assert s.max_concurrent_jobs == 4
    assert s.launch_delay == 0.5
    assert s.runtimelim == 3723
    assert s.deadtime == 60
    assert s.rerun_passes == 0
    assert s.allow_auto_rerun == [("", "INCOMPLETE"), ("KILLED", "")]
    assert s.run_wait and not s.launchwait
    assert s.area_name == "suite-name"
    assert s.minspace == 10000  # not a number: the default
    assert mc.jobtools.launcher == "nbfake" and not mc.jobtools.useshell
    assert mc.jobtools.maxload == 1.5
    assert mc.cleanrerun_states == ["KILLED", "STUCK"]
    assert mc.cleanrerun_statuses == list(DEFAULT_CLEANRERUN_STATUSES)
    assert mc.valid_states() == ["start", "end"] and mc.valid_statuses() is None
    assert mc.jobgroups == {"builders": 2}
    assert mc.server.timeout_seconds == 7200


def test_max_concurrent_jobs_not_a_number_is_one(tmp_path):
    top = write_area(tmp_path, "[setup]\nmax_concurrent_jobs lots\n")
    assert read_megatest_config(top, env=clean_env()).setup.max_concurrent_jobs == 1


def test_linktree_env_override(tmp_path):
    top = write_area(tmp_path, "[setup]\nlinktree /from/config\n")
    assert read_megatest_config(top, env=clean_env()).setup.linktree == "/from/config"
    env = clean_env(MT_LINKTREE="/from/env")
    assert read_megatest_config(top, env=env).setup.linktree == "/from/env"


def test_area_home_set_before_reading_and_shell_runs_in_the_area(tmp_path, monkeypatch):
    top = write_area(
        tmp_path,
        """\
        [setup]
        home #{getenv MT_RUN_AREA_HOME}
        here #{shell pwd}
        """,
    )
    monkeypatch.chdir("/")
    monkeypatch.delenv("MT_RUN_AREA_HOME", raising=False)
    env = clean_env()
    mc = read_megatest_config(top, env=env)
    assert mc.raw.lookup("setup", "home") == str(tmp_path.resolve())
    assert mc.raw.lookup("setup", "here") == str(tmp_path.resolve())
    assert env["MT_RUN_AREA_HOME"] == str(tmp_path.resolve())
    assert "MT_RUN_AREA_HOME" not in os.environ  # only the env mapping was changed


def test_env_override_is_shell_evaluated_and_exported(tmp_path):
    top = write_area(
        tmp_path,
        """\
        [env-override]
        BASE /opt/x
        BIN $BASE/bin
        SPACES a    b
        [setup]
        raw $BASE/raw
        """,
    )
    env = clean_env()
    mc = read_megatest_config(top, env=env)
    assert mc.env_override == {"BASE": "/opt/x", "BIN": "/opt/x/bin", "SPACES": "a b"}
    assert env["BIN"] == "/opt/x/bin"
    assert mc.raw.lookup("setup", "raw") == "$BASE/raw"  # not evaluated outside env-override


def test_fields_hook_exports_target_parts_for_the_rest_of_the_file(tmp_path):
    top = write_area(
        tmp_path,
        """\
        [fields]
        OS TEXT
        CC TEXT
        [setup]
        linktree /lt/#{getenv OS}-#{getenv CC}
        """,
    )
    env = clean_env()
    mc = read_megatest_config(top, target="ubuntu/gcc", env=env)
    assert mc.setup.linktree == "/lt/ubuntu-gcc"
    assert env["OS"] == "ubuntu" and env["MT_TARGET"] == "ubuntu/gcc"
    # MT_TARGET from the environment serves too
    mc = read_megatest_config(top, env=clean_env(MT_TARGET="rhel/clang"))
    assert mc.setup.linktree == "/lt/rhel-clang"


def test_fields_hook_with_a_wrong_target_is_a_diagnostic(tmp_path):
    top = write_area(tmp_path, "[fields]\nOS TEXT\nCC TEXT\n[setup]\nx 1\n")
    mc = read_megatest_config(top, target="only-one", env=clean_env())
    assert any("only-one" in d.message for d in mc.diagnostics)


def test_tests_paths_first_dir_wins_and_area_tests_last(tmp_path):
    extra = tmp_path / "extra"
    for folder, name in [(extra, "a"), (tmp_path / "tests", "a"), (tmp_path / "tests", "b")]:
        (folder / name).mkdir(parents=True)
        (folder / name / "testconfig").write_text("[setup]\n")
    (tmp_path / "tests" / "not-a-test").mkdir()
    top = write_area(tmp_path, f"[tests-paths]\nx {extra}\ny missing-dir\n")
    mc = read_megatest_config(top, env=clean_env())
    assert mc.tests_paths == [extra, tmp_path.resolve() / "tests"]
    assert mc.missing_tests_paths == ["missing-dir"]
    assert mc.test_dirs() == {"a": extra / "a", "b": tmp_path.resolve() / "tests" / "b"}


def test_flexi_launcher(tmp_path):
    top = write_area(
        tmp_path,
        """\
        [jobtools]
        launcher default-launcher
        flexi-launcher yes
        [launchers]
        big% bighost
        %/slow% slowhost
        [host-types]
        bighost bsub -q big
        """,
    )
    mc = read_megatest_config(top, env=clean_env())
    assert mc.launcher_for("bigtest") == "bsub -q big"
    assert mc.launcher_for("small", "x/slow1") == "default-launcher"  # no host-types entry
    assert mc.launcher_for("small", "fast") == "default-launcher"


@pytest.mark.parametrize(
    ("target", "ok"),
    [("a/b", True), ("a", False), ("a/b/c", False), ("a//", False), ("/b", False), ("", False)],
)
def test_parse_target(target, ok):
    if ok:
        assert parse_target(target, ["OS", "CC"]) == {"OS": "a", "CC": "b"}
    else:
        with pytest.raises(UsageError, match=r"invalid target .* OS/CC"):
            parse_target(target, ["OS", "CC"])


def test_parse_number():
    assert parse_number("5") == 5 and parse_number("-2") == -2
    assert parse_number("0.25") == 0.25 and parse_number("5   ") == 5
    assert parse_number("abc") is None and parse_number("") is None
    assert parse_number("nan") is None and parse_number("1_0") is None
    assert parse_number(None) is None


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        read_megatest_config(tmp_path, env=clean_env())


def test_find_and_locate_area(tmp_path, monkeypatch):
    top = write_area(tmp_path, "[setup]\n")
    deep = top / "a" / "b"
    deep.mkdir(parents=True)
    assert find_area(deep) == top.resolve()
    monkeypatch.chdir(deep)
    assert locate_area(env={}) == top.resolve()
    assert locate_area(env={"MT_RUN_AREA_HOME": str(DEMO)}) == DEMO
    assert locate_area(DEMO, env={"MT_RUN_AREA_HOME": str(top)}) == DEMO
    with pytest.raises(UsageError, match="not a Megatest area"):
        locate_area(deep, env={})


def test_open_area_demo():
    area = open_area(DEMO, target="rhel8/clang16", env=clean_env())
    assert area.keyvals() == {"OS": "rhel8", "COMPILER": "clang16"}
    assert area.env["COMPILER"] == "clang16"
    assert area.config.env_override["DEMO_BUILD_DIR"].endswith("/runs/build-clang16")
    assert area.runconfigs.merged()["OPTIMIZE"] == "-O1"
    run_env = area.run_env("r1")
    assert run_env["MT_TARGET"] == "rhel8/clang16" and run_env["MT_RUNNAME"] == "r1"
    assert run_env["CC"] == "clang-16" and run_env["CLANG_TIDY"] == "yes"
    assert run_env["MT_LINKTREE"] == str(DEMO / "links")
    assert area.diagnostics == []


def test_open_area_bad_target():
    with pytest.raises(UsageError, match=r"invalid target 'rhel8': .*OS/COMPILER"):
        open_area(DEMO, target="rhel8", env=clean_env())


@pytest.mark.parametrize("kind", ["folder", "dangling link"])
def test_a_testconfig_that_is_not_a_file_is_a_test_whose_read_names_it(tmp_path, kind):
    from megatest.config.testconfig import read_testconfig

    (tmp_path / "tests" / "good").mkdir(parents=True)
    (tmp_path / "tests" / "good" / "testconfig").write_text("[setup]\n")
    broken = tmp_path / "tests" / "broken" / "testconfig"
    broken.parent.mkdir()
    if kind == "folder":
        broken.mkdir()
    else:
        broken.symlink_to("nowhere")
    mc = read_megatest_config(write_area(tmp_path, "[setup]\n"), env=clean_env())
    dirs = mc.test_dirs()  # listed, so that it fails alone instead of vanishing
    assert list(dirs) == ["broken", "good"]
    with pytest.raises(ConfigError, match="testconfig is a (folder|link to a missing file)") as caught:
        read_testconfig(dirs["broken"], toppath=tmp_path)
    assert caught.value.path == str(tmp_path.resolve() / "tests" / "broken" / "testconfig")


def test_a_testconfig_that_is_a_fifo_is_an_error_naming_it(tmp_path):
    broken = tmp_path / "tests" / "broken" / "testconfig"
    broken.parent.mkdir(parents=True)
    os.mkfifo(broken)  # reading it would block: refused before any read
    mc = read_megatest_config(write_area(tmp_path, "[setup]\n"), env=clean_env())
    with pytest.raises(ConfigError, match="testconfig is not a regular file"):
        mc.test_dirs()
