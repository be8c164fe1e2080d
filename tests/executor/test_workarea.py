import os
import shlex
import stat

import pytest
from workarea_fixtures import fake_space, make_source

from megatest.errors import ConfigError, RunFailed
from megatest.executor import workarea
from megatest.executor.deletion import DeletionGuard
from megatest.executor.workarea import Disk, choose_disk, copy_test_source, create_work_area


def test_most_free_space_wins(tmp_path):
    for name in ("d1", "d2", "d3"):
        (tmp_path / name).mkdir()
    script = fake_space(tmp_path, {"d1": 50000, "d2": 90000, "d3": 20000})
    disks = {n: str(tmp_path / n) for n in ("d1", "d2", "d3")}
    disk = choose_disk(disks, free_space_script=script)
    assert (disk.name, disk.free_kb) == ("d2", 90000)


def test_minspace_and_bad_entries(tmp_path):
    (tmp_path / "d1").mkdir()
    script = fake_space(tmp_path, {"d1": 5000})
    with pytest.raises(RunFailed, match="minspace is 10000"):
        choose_disk({"d1": str(tmp_path / "d1")}, free_space_script=script)
    assert choose_disk({"d1": str(tmp_path / "d1")}, minspace_kb=100, free_space_script=script).name == "d1"
    # relative, missing and read-only entries are skipped with a reason
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    bad = {"rel": "relative/dir", "missing": str(tmp_path / "nope")}
    if os.geteuid() != 0:
        bad["ro"] = str(ro)
    with pytest.raises(RunFailed, match="not an absolute path.*not a directory"):
        choose_disk(bad)
    assert choose_disk({**bad, "d1": str(tmp_path / "d1")}, minspace_kb=0).name == "d1"


def test_default_free_space_uses_statvfs(tmp_path):
    assert workarea.free_space_kb(str(tmp_path)) > 0


def test_run_dir_and_link_tree(tmp_path):
    disk = Disk("d", str(tmp_path / "disk"), 1)
    (tmp_path / "disk").mkdir()
    wa = create_work_area(target="x86/linux", runname="r1", test_name="t1", disk=disk,
                          linktree=str(tmp_path / "lt"), test_src_dir="/unused")
    assert wa.real_dir == tmp_path / "disk/x86/linux/r1/t1"
    assert wa.real_dir.is_dir()
    assert wa.link_path == tmp_path / "lt/x86/linux/r1/t1"
    assert wa.link_path.is_symlink() and os.readlink(wa.link_path) == str(wa.real_dir)
    assert wa.run_dir == wa.link_path


def test_item_links_live_in_a_real_directory_and_stale_links_are_replaced(tmp_path):
    lt = tmp_path / "lt"
    d1 = Disk("d1", str(tmp_path / "a"), 1)
    d2 = Disk("d2", str(tmp_path / "b"), 1)
    for d in (d1, d2):
        os.mkdir(d.path)
    # the test ran before without items: its link-tree entry was a symlink
    create_work_area(target="t", runname="r", test_name="n", disk=d1, linktree=str(lt), test_src_dir="/x")
    wa = create_work_area(target="t", runname="r", test_name="n", item_path="i1", disk=d1,
                          linktree=str(lt), test_src_dir="/x")
    assert (lt / "t/r/n").is_dir() and not (lt / "t/r/n").is_symlink()
    assert os.readlink(lt / "t/r/n/i1") == str(tmp_path / "a/t/r/n/i1")
    # the next run of the same item lands on another disk: the old link is replaced
    wa2 = create_work_area(target="t", runname="r", test_name="n", item_path="i1", disk=d2,
                           linktree=str(lt), test_src_dir="/x")
    assert wa2.link_path == wa.link_path
    assert os.readlink(lt / "t/r/n/i1") == str(tmp_path / "b/t/r/n/i1")
    # a dangling link is replaced too
    os.rename(tmp_path / "b", tmp_path / "gone")
    os.mkdir(tmp_path / "b")
    create_work_area(target="t", runname="r", test_name="n", item_path="i1", disk=d2,
                     linktree=str(lt), test_src_dir="/x")
    assert (lt / "t/r/n/i1").resolve() == (tmp_path / "b/t/r/n/i1")


def test_no_disks_runs_in_tmp_run(tmp_path):
    wa = create_work_area(target="t", runname="r", test_name="n", disk=None, linktree=None,
                          test_src_dir=str(tmp_path))
    assert wa.real_dir == tmp_path / "tmp_run" and wa.link_path is None and wa.run_dir == wa.real_dir


def test_path_components_cannot_escape(tmp_path):
    disk = Disk("d", str(tmp_path), 1)
    for kw in ({"runname": ".."}, {"test_name": "a/../../b"}, {"item_path": "x//y"}):
        args = dict(target="t", runname="r", test_name="n", disk=disk, linktree=str(tmp_path / "lt"),
                    test_src_dir="/x")
        args.update(kw)
        with pytest.raises(ConfigError):
            create_work_area(**args)


def test_copy_everything_like_rsync_a(tmp_path):
    src = make_source(tmp_path)
    dest = tmp_path / "dest"
    copy_test_source(src, dest)
    assert (dest / ".hidden").read_text() == "h"
    assert (dest / "sub/data.txt").read_text() == "d"
    assert os.access(dest / "run.sh", os.X_OK)
    assert os.readlink(dest / "link") == "sub/data.txt"
    copy_test_source(src, dest)  # a second copy over an existing run dir works


def test_copy_into_own_tmp_run_does_not_recurse(tmp_path):
    src = make_source(tmp_path)
    copy_test_source(src, src / "tmp_run")
    assert (src / "tmp_run/testconfig").exists()
    assert not (src / "tmp_run/tmp_run").exists()


def test_testcopycmd(tmp_path):
    src = make_source(tmp_path)
    dest = tmp_path / "dest"
    copy_test_source(src, dest, testcopycmd="cp -r TEST_SRC_PATH/sub TEST_TARG_PATH/copied")
    assert (dest / "copied/data.txt").exists()
    assert "TESTCOPYCMD: cp -r" in (dest / "mt_launch.log").read_text()
    with pytest.raises(RunFailed, match="testcopycmd exited 1"):
        copy_test_source(src, dest, testcopycmd="false")


def test_testcopycmd_paths_are_data_not_commands(tmp_path):
    # a run name and an item value that would run commands if pasted into the shell text
    src = make_source(tmp_path)
    dest = tmp_path / "runs/ubuntu/r;touch MARKER;/t/$(touch MARKER2) `touch MARKER3`"
    copy_test_source(src, dest, testcopycmd="cp -r TEST_SRC_PATH/. TEST_TARG_PATH")
    assert list(tmp_path.rglob("MARKER*")) == []
    assert (dest / "sub/data.txt").read_text() == "d"
    assert (dest / ".hidden").read_text() == "h"
    # the log shows the equivalent command, paths quoted
    log = (dest / "mt_launch.log").read_text()
    assert f"TESTCOPYCMD: cp -r {src}/. {shlex.quote(str(dest))}\n" in log
    with pytest.raises(RunFailed) as failed:
        copy_test_source(src, dest, testcopycmd="test -d 'TEST_TARG_PATH/nowhere'", attempts=1)
    assert f"testcopycmd exited 1: test -d '{dest}/nowhere'" in str(failed.value)
    assert list(tmp_path.rglob("MARKER*")) == []


def test_remove_work_area(tmp_path):
    disk = Disk("d", str(tmp_path / "disk"), 1)
    (tmp_path / "disk").mkdir()
    wa = create_work_area(target="t", runname="r", test_name="n", disk=disk,
                          linktree=str(tmp_path / "lt"), test_src_dir="/x")
    (wa.real_dir / "ro").mkdir()
    (wa.real_dir / "ro/f").write_text("x")
    (wa.real_dir / "ro").chmod(0o500)
    guard = DeletionGuard([tmp_path / "disk", tmp_path / "lt"])
    workarea.remove_work_area(wa.real_dir, wa.link_path, guard=guard)
    assert not wa.real_dir.exists() and not os.path.lexists(wa.link_path)
    assert (tmp_path / "disk").is_dir()
