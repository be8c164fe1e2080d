"""Connection setup: WAL on local disks, rollback journal on network filesystems."""

import io
import sqlite3

import pytest

from megatest.store import sqlite_conn
from megatest.store.progress import Progress


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    monkeypatch.setattr(sqlite_conn, "_journal_cache", {})
    monkeypatch.delenv("MT_STORE_JOURNAL", raising=False)


def test_local_disk_gets_wal_and_busy_timeout(tmp_path):
    db = tmp_path / "x.db"
    sqlite3.connect(db).close()
    conn = sqlite_conn.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == sqlite_conn.BUSY_TIMEOUT_MS


def test_network_filesystem_keeps_rollback_journal(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_conn, "filesystem_type", lambda _path: "nfs4")
    db = tmp_path / "x.db"
    sqlite3.connect(db).close()
    conn = sqlite_conn.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_environment_override(tmp_path, monkeypatch):
    monkeypatch.setenv("MT_STORE_JOURNAL", "delete")
    assert sqlite_conn.journal_mode_for(tmp_path / "x.db") == "delete"


def test_filesystem_type_of_root_is_known():
    assert sqlite_conn.filesystem_type("/") not in (None, "")


def test_immediate_rolls_back_on_error(tmp_path):
    db = tmp_path / "x.db"
    sqlite3.connect(db).execute("CREATE TABLE t (v INTEGER)").connection.close()
    conn = sqlite_conn.connect(db)
    with pytest.raises(ZeroDivisionError), sqlite_conn.immediate(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        1 / 0  # noqa: B018
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_progress_bar_draws_only_when_enabled():
    out = io.StringIO()
    bar = Progress(4, "converting", stream=out)
    for _ in range(4):
        bar.advance()
    bar.done()
    assert "4/4 100%" in out.getvalue() and out.getvalue().endswith("\n")
    quiet = io.StringIO()
    Progress(4, "x", enabled=False, stream=quiet).advance()
    assert quiet.getvalue() == ""
