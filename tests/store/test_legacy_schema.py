"""The generated original-format db has the reference's schema (db-state-server 1.2)."""

import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import legacy_gen  # noqa: E402


def _cols(conn, table):
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def test_head_variant_matches_reference_columns(tmp_path):
    legacy_gen.generate(str(tmp_path / "megatest.db"), runs=2, tests_per_run=3)
    c = sqlite3.connect(tmp_path / "megatest.db")
    assert _cols(c, "runs") == ["id", "SYSTEM", "RELEASE", "runname", "contour", "state", "status",
                                "owner", "event_time", "comment", "fail_count", "pass_count",
                                "last_update"]
    assert _cols(c, "tests") == [
        "id", "run_id", "testname", "host", "cpuload", "diskfree", "uname", "rundir", "shortdir",
        "item_path", "state", "status", "attemptnum", "final_logf", "logdat", "run_duration",
        "comment", "event_time", "fail_count", "pass_count", "archived", "last_update"]
    assert _cols(c, "test_steps") == ["id", "test_id", "stepname", "state", "status", "event_time",
                                      "comment", "logfile", "last_update"]
    assert _cols(c, "test_data") == ["id", "test_id", "category", "variable", "value", "expected",
                                     "tol", "units", "comment", "status", "type", "last_update"]
    assert _cols(c, "test_rundat") == ["id", "test_id", "update_time", "cpuload", "diskfree",
                                       "diskusage", "run_duration"]
    # registration defaults and the UNIQUE constraints of the original
    c.execute("INSERT INTO tests (run_id, testname) VALUES (1, 'fresh')")
    row = c.execute("SELECT state, status, uname, item_path, rundir FROM tests "
                    "WHERE testname='fresh'").fetchone()
    assert row == ("NOT_STARTED", "FAIL", "n/a", "", "/tmp/badname")
    try:
        c.execute("INSERT INTO tests (run_id, testname, item_path) VALUES (1, 'fresh', '')")
        raise AssertionError("testsconstraint missing")
    except sqlite3.IntegrityError:
        pass
    triggers = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert triggers == {"update_runs_trigger", "update_run_stats_trigger", "update_tests_trigger",
                        "update_teststeps_trigger", "update_test_data_trigger"}


def test_old_variant_lacks_later_columns_and_tables(tmp_path):
    legacy_gen.generate(str(tmp_path / "megatest.db"), runs=2, tests_per_run=3, variant="old")
    c = sqlite3.connect(tmp_path / "megatest.db")
    assert "last_update" not in _cols(c, "tests") and "contour" not in _cols(c, "runs")
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "test_rundat" not in tables and "archive_disks" not in tables
