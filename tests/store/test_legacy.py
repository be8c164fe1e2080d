"""Converting a legacy megatest.db: same answers, original untouched, idempotent, resumable."""

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from megatest.store import legacy, maintenance, open_store

sys.path.insert(0, str(Path(__file__).parent))
import legacy_gen  # noqa: E402

MEGATEST = [sys.executable, "-m", "megatest"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _legacy_answers(db: Path) -> dict:
    """The questions the dashboard / -list-runs ask, answered by the original file."""
    c = sqlite3.connect(db)
    runs = c.execute("SELECT id, SYSTEM, RELEASE, runname, state FROM runs ORDER BY id").fetchall()
    out = {"runs": [(i, f"{a}/{b}", n, s) for i, a, b, n, s in runs], "tests": {}, "steps": {},
           "data": {}}
    for run_id, *_ in runs:
        tests = c.execute(
            "SELECT id, testname, item_path, state, status, rundir, run_duration FROM tests "
            "WHERE run_id=? AND state != 'DELETED' ORDER BY testname, item_path", (run_id,)
        ).fetchall()
        out["tests"][run_id] = tests
        for t in tests:
            out["steps"][t[0]] = c.execute(
                "SELECT stepname, state, status FROM test_steps WHERE test_id=? AND "
                "status != 'DELETED' ORDER BY id", (t[0],)).fetchall()
            out["data"][t[0]] = c.execute(
                "SELECT category, variable, value, status FROM test_data WHERE test_id=? "
                "ORDER BY category, variable", (t[0],)).fetchall()
    c.close()
    return out


def _store_answers(area: Path) -> dict:
    with open_store(area) as s:
        runs = s.find_runs(include_deleted=True)
        out = {"runs": [(r.id, r.target, r.runname, r.state) for r in sorted(runs, key=lambda r: r.id)],
               "tests": {}, "steps": {}, "data": {}}
        for r in runs:
            tests = s.get_tests(r.id)
            out["tests"][r.id] = [(t.id, t.testname, t.item_path, t.state, t.status, t.rundir,
                                   t.run_duration) for t in tests]
            for t in tests:
                out["steps"][t.id] = [(x.stepname, x.state, x.status) for x in s.get_steps(r.id, t.id)]
                out["data"][t.id] = [(d.category, d.variable, d.value, d.status)
                                     for d in s.get_test_data(r.id, t.id)]
    return out


@pytest.fixture(params=["head", "old"])
def legacy_area(tmp_path, request):
    legacy_gen.generate(str(tmp_path / "megatest.db"), runs=4, tests_per_run=7,
                        variant=request.param)
    (tmp_path / "megatest.config").write_text("[fields]\nSYSTEM TEXT\nRELEASE TEXT\n")
    return tmp_path


def test_conversion_keeps_answers_and_original(legacy_area):
    db = legacy_area / "megatest.db"
    before, digest = _legacy_answers(db), _sha(db)
    lines: list[str] = []
    assert maintenance.migrate(legacy_area, [("SYSTEM", "TEXT"), ("RELEASE", "TEXT")],
                               say=lines.append)
    assert any("MISMATCH" in ln for ln in lines) is False
    assert _sha(db) == digest
    assert _store_answers(legacy_area) == before
    # a second migrate changes nothing
    again: list[str] = []
    assert not maintenance.migrate(legacy_area, [("SYSTEM", "TEXT"), ("RELEASE", "TEXT")],
                                   say=again.append)
    assert "nothing to do" in again[-1]
    assert _sha(db) == digest


def test_converted_store_keeps_working(legacy_area):
    maintenance.migrate(legacy_area, say=lambda _: None)
    with open_store(legacy_area, fields=["SYSTEM", "RELEASE"]) as s:
        run = s.find_runs("os1/%")[0]
        item = s.get_tests(run.id, "test1/item/0")[0]
        s.set_test_state_status(run.id, item.id, "RUNNING", "n/a")
        assert s.get_test_by_name(run.id, "test1").state == "RUNNING"
        # new test ids continue after the converted ones, area-wide
        new = s.get_or_create_test(run.id, "brand_new")
        conn = sqlite3.connect(legacy_area / "megatest.db")
        assert new > conn.execute("SELECT max(id) FROM tests").fetchone()[0]


def test_orphans_are_kept_then_cleaned(legacy_area):
    maintenance.migrate(legacy_area, say=lambda _: None)
    kinds = {p.kind for p in maintenance.check(legacy_area)}
    assert "orphan-db" in kinds  # the test of run 999 and the step of a missing test
    maintenance.cleanup(legacy_area, say=lambda _: None)
    assert maintenance.check(legacy_area) == []


def _progress_units(staging: Path) -> int:
    try:
        c = sqlite3.connect(f"file:{staging}?mode=ro", uri=True)
        try:
            return c.execute(f"SELECT count(*) FROM {legacy.PROGRESS_TABLE}").fetchone()[0]
        finally:
            c.close()
    except sqlite3.DatabaseError:
        return -1


@pytest.mark.parametrize(("kill_after_units", "lose_a_done_run"), [(0, False), (3, False), (3, True)])
def test_sigkill_midway_then_rerun_finishes_cleanly(tmp_path, kill_after_units, lose_a_done_run):
    db = tmp_path / "megatest.db"
    legacy_gen.generate(str(db), runs=8, tests_per_run=5)
    (tmp_path / "megatest.config").write_text("[fields]\nSYSTEM TEXT\nRELEASE TEXT\n")
    before, digest = _legacy_answers(db), _sha(db)
    env = {**os.environ, "MT_STORE_CONVERT_PAUSE": "0.3"}
    proc = subprocess.Popen([*MEGATEST, "db", "migrate", "--area", str(tmp_path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = tmp_path / ".db" / legacy.STAGING_NAME
    deadline = time.time() + 60
    while _progress_units(staging) < kill_after_units and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / ".db" / "main.db").exists()  # nothing published half-way
    if lose_a_done_run:  # a run db marked done that no longer holds its rows is redone
        (tmp_path / ".db" / "1.db").unlink()
    done = subprocess.run([*MEGATEST, "db", "migrate", "--area", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "MISMATCH" not in done.stdout
    if kill_after_units:
        assert "resuming conversion" in done.stdout
    assert _sha(db) == digest
    assert _store_answers(tmp_path) == before
    assert not staging.exists() and not list((tmp_path / ".db").glob(".*.new"))
