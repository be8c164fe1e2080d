"""The per-run caches of preparation give what the one-test functions give, only cheaper."""

import os
import subprocess

import pytest
from workarea_fixtures import fake_space, make_source

from megatest.executor import environment
from megatest.executor.environment import (
    EnvCache,
    SnapshotWriter,
    TestEnvInputs,
    build_test_env,
    echo_is_run_level,
    write_env_snapshots,
)
from megatest.executor.prepare import RunPreparer, prepare_test
from megatest.executor.workarea import DiskChooser, SourceCopier, copy_test_source


def inputs(**kw) -> TestEnvInputs:
    base = dict(
        base_env={"PATH": "/usr/bin:/bin", "HOME": "/home/u", "SEASON": "inherited"},
        toppath="/area", area_name="suite", keyvals=[("ARCH", "x86"), ("OS", "linux")],
        runname="r1", test_name="t1", run_dir="/lt/x86/linux/r1/t1/a",
        linktree="/lt", megatest="/opt/mt/bin/megatest", item_vars=[("SEASON", "summer")],
        runconfig_default=[("RC", "$ARCH-$OS"), ("RC2", "'a  b' ${RC}")],
        runconfig_target=[("PATH", "$PATH:/extra")],
        env_override=[("EO", "1"), ("MT_TEST_NAME", "forced")],
        setvars="SV=2", extra={"MT_RUN_ID": "1", "MT_TEST_ID": "7"},
    )
    base.update(kw)
    return TestEnvInputs(**base)


@pytest.mark.parametrize("change", [
    {},
    {"test_name": "t2", "run_dir": "/lt/x86/linux/r1/t2", "item_vars": []},
    {"item_vars": [("PATH", "/item"), ("A", "1")], "extra": {"MT_TEST_ID": "9", "HOME": "/x"}},
    {"env_override": [], "setvars": None, "runconfig_target": []},
])
def test_cached_environment_equals_the_full_build_in_values_and_order(change):
    cache = EnvCache()
    cache.build(inputs(test_name="warm", run_dir="/warm"))  # the template of the run exists
    want = build_test_env(inputs(**change))
    got = build_test_env(inputs(**change), cache=cache)
    assert list(got.items()) == list(want.items())
    if change.get("env_override", True):
        assert got["MT_TEST_NAME"] == "forced"  # [env-override] still beats the required set
    assert got["RC2"] == "a  b x86-linux"


def test_runconfig_shell_runs_once_per_run_for_run_level_values(monkeypatch):
    calls = []
    real = environment.shell_echo_values
    monkeypatch.setattr(environment, "shell_echo_values",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    cache = EnvCache()
    for i in range(5):
        env = build_test_env(inputs(test_name=f"t{i}", run_dir=f"/d/t{i}"), cache=cache)
        assert env["RC"] == "x86-linux" and env["MT_TEST_NAME"] == "forced"
        assert env["MT_TEST_RUN_DIR"] == f"/d/t{i}"
    assert len(calls) == 1


def test_values_that_depend_on_the_test_are_still_evaluated_per_test(tmp_path):
    cache = EnvCache()
    for name in ("a", "b"):
        run_dir = tmp_path / name
        run_dir.mkdir()
        pairs = [("HERE", "$(pwd)"), ("MINE", "$MT_TEST_RUN_DIR/x"), ("G", "*")]
        (run_dir / "f1").write_text("")
        env = build_test_env(inputs(run_dir=str(run_dir), runconfig_default=pairs),
                             cwd=str(run_dir), cache=cache)
        assert env["HERE"] == str(run_dir)
        assert env["MINE"] == f"{run_dir}/x"
        assert env["G"] == "f1"  # globbing reads the run dir


def test_echo_is_run_level():
    assert echo_is_run_level("$HOME/x ${A:-b} 'q' \"w\"")
    for per_test in ("$(pwd)", "`id`", "*.c", "a;b", "$$", "$PWD", "$MT_TEST_RUN_DIR"):
        assert not echo_is_run_level(per_test)


def test_snapshot_writer_matches_the_one_shot_writer_across_tests(tmp_path):
    writer = SnapshotWriter()
    for name in ("one", "two"):
        env = build_test_env(inputs(test_name=name))
        env["WEIRD"] = f"{name}'s\n$x"
        (tmp_path / name).mkdir()
        (tmp_path / f"{name}-ref").mkdir()
        sh, csh = writer.write(env, tmp_path / name)
        ref_sh, ref_csh = write_env_snapshots(env, tmp_path / f"{name}-ref")
        assert sh.read_text() == ref_sh.read_text() and csh.read_text() == ref_csh.read_text()
        out = subprocess.run(["/bin/sh", "-c", f". {sh}; printf %s \"$WEIRD|$MT_TEST_NAME\""],
                             capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
        assert out.stdout == f"{env['WEIRD']}|forced"


def test_disk_choice_is_rechecked_after_the_interval(tmp_path):
    for name in ("d1", "d2"):
        (tmp_path / name).mkdir()
    disks = {n: str(tmp_path / n) for n in ("d1", "d2")}
    now = [0.0]
    chooser = DiskChooser(recheck_seconds=10, clock=lambda: now[0])
    script = fake_space(tmp_path, {"d1": 50000, "d2": 90000})
    assert chooser.choose(disks, free_space_script=script).name == "d2"
    fake_space(tmp_path, {"d1": 90000, "d2": 50000})  # d2 filled up
    now[0] = 5.0
    assert chooser.choose(disks, free_space_script=script).name == "d2"  # not re-read yet
    now[0] = 10.5
    assert chooser.choose(disks, free_space_script=script).name == "d1"


def test_source_copier_keeps_modes_times_links_and_sees_new_content(tmp_path):
    src = make_source(tmp_path)
    os.chmod(src / "sub", 0o750)
    os.utime(src / "run.sh", ns=(1_000_000_000, 2_000_000_000))
    copier = SourceCopier()
    copy_test_source(src, tmp_path / "d1", copier=copier)
    d1 = tmp_path / "d1"
    assert (d1 / ".hidden").read_text() == "h" and (d1 / "sub/data.txt").read_text() == "d"
    assert os.readlink(d1 / "link") == "sub/data.txt"
    assert os.stat(d1 / "run.sh").st_mode & 0o777 == 0o755
    assert os.stat(d1 / "run.sh").st_mtime_ns == 2_000_000_000
    assert os.stat(d1 / "sub").st_mode & 0o777 == 0o750
    assert os.stat(d1 / "sub").st_mtime_ns == os.stat(src / "sub").st_mtime_ns
    (src / ".hidden").write_text("changed")  # the listing is kept, the content is read again
    (d1 / "sub/data.txt").unlink()
    os.symlink("elsewhere", d1 / "sub/data.txt")  # a link in the way of a file is replaced
    copy_test_source(src, d1, copier=copier)
    assert (d1 / ".hidden").read_text() == "changed"
    assert not os.path.islink(d1 / "sub/data.txt") and (d1 / "sub/data.txt").read_text() == "d"


def test_source_copier_recovers_when_the_source_changed(tmp_path):
    src = make_source(tmp_path)
    copier = SourceCopier()
    copy_test_source(src, tmp_path / "d1", copier=copier)
    (src / "sub/data.txt").unlink()
    (src / "new.txt").write_text("n")
    copy_test_source(src, tmp_path / "d2", copier=copier)  # the stale listing is dropped
    assert (tmp_path / "d2/new.txt").read_text() == "n"
    assert not (tmp_path / "d2/sub/data.txt").exists()


def test_source_copier_into_own_tmp_run(tmp_path):
    src = make_source(tmp_path)
    copier = SourceCopier()
    for _ in range(2):
        copy_test_source(src, src / "tmp_run", copier=copier)
        assert (src / "tmp_run/testconfig").exists()
        assert not (src / "tmp_run/tmp_run").exists()


def test_run_preparer_prepares_items_of_one_test(tmp_path):
    src = make_source(tmp_path)
    (tmp_path / "disk").mkdir()
    preparer = RunPreparer()
    for item in ("i1", "i2"):
        env_inputs = inputs(run_dir="", linktree=str(tmp_path / "lt"), item_vars=[("N", item)],
                            keyvals=[("ARCH", "x86")])
        prepared = prepare_test(env_inputs, disks={"d": str(tmp_path / "disk")},
                                test_src_dir=str(src), minspace_kb=0, preparer=preparer)
        real = tmp_path / f"disk/x86/r1/t1/{item}"
        assert prepared.work_area.real_dir == real
        assert os.readlink(tmp_path / f"lt/x86/r1/t1/{item}") == str(real)
        assert prepared.env["MT_TEST_RUN_DIR"] == str(tmp_path / f"lt/x86/r1/t1/{item}")
        assert prepared.env["MT_ITEMPATH"] == item and prepared.env["N"] == item
        assert (real / "sub/data.txt").read_text() == "d"
        assert f"export N='{item}'" in (real / "megatest.sh").read_text()
