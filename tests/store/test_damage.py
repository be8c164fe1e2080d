"""Damaged, empty or inaccessible store files: what a user sees, and that nothing is lost."""

import errno
import os
import sqlite3
import subprocess
import sys

import pytest

from megatest.errors import StoreError
from megatest.store import maintenance, migrations, open_store, paths, sqlite_conn
from megatest.store.testwrite import TestWriter

MEGATEST = [sys.executable, "-m", "megatest"]
TARGET = {"A": "x"}


def mt(*args):
    return subprocess.run([*MEGATEST, *args], capture_output=True, text=True)


@pytest.fixture
def area(tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nA TEXT\n")
    with open_store(tmp_path, fields=["A"]) as s:
        s.get_or_create_run(TARGET, "first")
    return tmp_path


def template(area):
    return migrations.template_path(paths.db_dir(area))


def spoil_template(area):
    template(area).write_bytes(b"garbage" * 1000)
    migrations._sound_templates.clear()  # as a new process would find it


def test_damaged_template_is_rebuilt_and_the_next_run_works(area):
    spoil_template(area)
    with open_store(area) as s:
        run_id = s.get_or_create_run(TARGET, "second")
        test_id = s.get_or_create_test(run_id, "t")
        assert s.get_test(run_id, test_id).testname == "t"
    assert migrations.current(paths.run_db(area, run_id)) == migrations.head("run")
    assert migrations.template_problem(template(area)) is None


def test_db_check_reports_a_damaged_template_and_cleanup_rebuilds_it(area):
    spoil_template(area)
    res = mt("db", "check", "--area", str(area))
    assert res.returncode == 1
    assert f"{template(area)}: template: run db template not an SQLite database" in res.stdout
    res = mt("db", "cleanup", "--area", str(area))
    assert res.returncode == 0, res.stderr
    assert "rebuilt" in res.stdout and "Traceback" not in res.stderr
    assert mt("db", "check", "--area", str(area)).returncode == 0


def test_cleanup_gives_a_missing_run_db_back_despite_a_damaged_template(area):
    paths.run_db(area, 1).unlink()
    spoil_template(area)
    res = mt("db", "cleanup", "--area", str(area))
    assert res.returncode == 0, res.stderr
    assert migrations.current(paths.run_db(area, 1)) == migrations.head("run")


def test_no_run_row_is_left_without_its_db(area, monkeypatch):
    def full(_src, _dest):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(migrations, "copy_db", full)
    with open_store(area) as s:
        with pytest.raises(StoreError, match="no space left on the device"):
            s.get_or_create_run(TARGET, "second")
        assert [r.runname for r in s.find_runs()] == ["first"]
    assert sorted(paths.run_db_files(paths.db_dir(area))) == [1]
    monkeypatch.undo()
    assert not [p for p in maintenance.check(area) if p.kind == "missing-run-db"]


def test_the_next_start_of_a_run_makes_its_missing_db(area):
    paths.run_db(area, 1).unlink()
    with open_store(area) as s:
        assert s.get_or_create_run(TARGET, "first") == 1
    assert migrations.current(paths.run_db(area, 1)) == migrations.head("run")


def test_empty_main_db_is_named_and_not_grown_by_check(area):
    main = paths.main_db(area)
    for f in paths.sidecar_files(main):
        f.unlink(missing_ok=True)
    main.write_bytes(b"")
    res = mt("db", "check", "--area", str(area))
    assert res.returncode == 1 and "empty file (0 bytes)" in res.stdout
    assert main.stat().st_size == 0
    with pytest.raises(StoreError, match="empty file") as err:
        open_store(area)
    assert "schema revision None" not in str(err.value)


def test_empty_run_db_is_named_by_the_helper(area):
    paths.run_db(area, 1).write_bytes(b"")
    with pytest.raises(StoreError, match="empty file .* makes it again"):
        TestWriter(area, 1)


def _refuse(message):
    def connect(*_args, **_kwargs):
        raise sqlite3.OperationalError(message)
    return connect


def test_full_disk_is_said_by_the_helper(area, monkeypatch):
    monkeypatch.setattr(sqlite3, "connect", _refuse("database or disk is full"))
    with pytest.raises(StoreError, match="no space left on the device") as err:
        TestWriter(area, 1)
    assert "no database for run" not in str(err.value)


def test_no_write_access_to_the_folder_is_said_on_open(area, monkeypatch):
    folder = paths.db_dir(area)
    real_access = os.access
    monkeypatch.setattr(os, "access",
                        lambda p, mode: False if str(p) == str(folder) else real_access(p, mode))
    monkeypatch.setattr(sqlite3, "connect", _refuse("unable to open database file"))
    with pytest.raises(StoreError, match=f"no permission to write in the folder {folder}") as err:
        open_store(area)
    assert "schema revision" not in str(err.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_read_only_db_folder_for_real(area):
    folder = paths.db_dir(area)
    for f in paths.sidecar_files(paths.main_db(area))[1:]:
        f.unlink(missing_ok=True)
    os.chmod(paths.main_db(area), 0o444)
    os.chmod(folder, 0o555)
    try:
        res = mt("db", "status", "--area", str(area))
        with pytest.raises(StoreError, match="no permission"):
            open_store(area)
    finally:
        os.chmod(folder, 0o755)
    assert "Traceback" not in res.stderr


def test_failure_reasons():
    path = sqlite_conn.Path("/nowhere/.db/main.db")
    assert "no space left on the device holding /nowhere/.db" in sqlite_conn.failure_reason(
        path, OSError(errno.ENOSPC, "No space left on device"))
    assert "read-only file system" in sqlite_conn.failure_reason(
        path, OSError(errno.EROFS, "Read-only file system"))
    assert "folder /nowhere/.db does not exist" in sqlite_conn.failure_reason(
        path, sqlite3.OperationalError("unable to open database file"))


def test_half_written_run_db_of_an_interrupted_conversion(tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nA TEXT\n")
    sqlite3.connect(tmp_path / "megatest.db").execute("CREATE TABLE runs (id INTEGER)").connection.close()
    paths.db_dir(tmp_path).mkdir()
    paths.run_db(tmp_path, 1).write_bytes(b"SQLite format 3\x00" + b"\x07" * 3000)
    res = mt("db", "status", "--area", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "interrupted `megatest db migrate`" in res.stdout
    assert "run `megatest db migrate` again" in res.stdout
    assert "restore it from a backup" not in res.stdout
    res = mt("db", "check", "--area", str(tmp_path))
    assert "run `megatest db migrate` again to finish it" in res.stdout
