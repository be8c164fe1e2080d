"""The guard every work-area deletion asks first."""

from __future__ import annotations

import os

import pytest

from megatest.executor.deletion import DeletionGuard, UnsafeDeletion, recorded_dir
from megatest.executor.workarea import remove_work_area


@pytest.fixture
def layout(tmp_path):
    disk, links, outside = tmp_path / "disk", tmp_path / "lt", tmp_path / "precious"
    for folder in (disk / "a" / "r" / "t", links / "a" / "r", outside):
        folder.mkdir(parents=True)
    (outside / "keep").write_text("mine")
    (links / "a" / "r" / "t").symlink_to(disk / "a" / "r" / "t")
    return disk, links, outside


def test_a_work_area_inside_a_disk_and_its_link_are_deleted(layout):
    disk, links, _outside = layout
    guard = DeletionGuard([disk, links])
    remove_work_area(disk / "a" / "r" / "t", links / "a" / "r" / "t", guard=guard)
    assert not (disk / "a" / "r" / "t").exists() and not (links / "a" / "r" / "t").is_symlink()


@pytest.mark.parametrize("where", ["outside", "the disk itself", "dotdot", "a link out"])
def test_anything_else_is_refused_and_nothing_is_deleted(layout, where):
    disk, links, outside = layout
    guard = DeletionGuard([disk, links])
    if where == "outside":
        target = outside
    elif where == "the disk itself":
        target = disk
    elif where == "dotdot":
        target = disk / "a" / ".." / ".." / "precious"
    else:
        (outside / "sub").mkdir()
        (disk / "a" / "escape").symlink_to(outside, target_is_directory=True)
        target = disk / "a" / "escape" / "sub"  # through a link in the disk to outside
    with pytest.raises(UnsafeDeletion, match="refused to delete"):
        remove_work_area(target, None, guard=guard)
    assert (outside / "keep").read_text() == "mine" and disk.is_dir()
    assert where != "a link out" or (outside / "sub").is_dir()


def test_a_link_is_judged_by_where_it_is_not_where_it_points(layout):
    disk, links, outside = layout
    (links / "a" / "r" / "odd").symlink_to(outside)
    remove_work_area(None, links / "a" / "r" / "odd", guard=DeletionGuard([links]))
    assert not (links / "a" / "r" / "odd").is_symlink() and (outside / "keep").exists()


def test_an_owned_folder_may_go_whole(tmp_path):
    tmp_run = tmp_path / "tests" / "t" / "tmp_run"
    tmp_run.mkdir(parents=True)
    (tmp_run / "x.log").write_text("")
    remove_work_area(tmp_run, None, guard=DeletionGuard([], owned=[tmp_run]))
    assert not tmp_run.exists() and (tmp_path / "tests" / "t").is_dir()


@pytest.mark.parametrize("value", ["", "n/a", "/tmp/badname", None])
def test_rows_that_never_had_a_directory_carry_no_path(value):
    assert recorded_dir(value) is None
    assert recorded_dir(os.sep + "x") == "/x"
