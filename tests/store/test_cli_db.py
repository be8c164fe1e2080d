"""`megatest db migrate|status|check|cleanup` as a user runs them."""

import json
import sqlite3
import subprocess
import sys

import pytest

MEGATEST = [sys.executable, "-m", "megatest"]


def mt(*args, check=True):
    res = subprocess.run([*MEGATEST, *args], capture_output=True, text=True)
    if check and res.returncode != 0:
        raise AssertionError(f"{args}: rc={res.returncode}\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture
def area(tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nSYSTEM TEXT\nRELEASE TEXT\n")
    return tmp_path


def test_new_area_migrate_status_check_cleanup(area):
    out = mt("db", "migrate", "--area", str(area)).stdout
    assert "created" in out and (area / ".db" / "main.db").is_file()
    assert "nothing to do" in mt("db", "migrate", "--area", str(area)).stdout
    from megatest.store import open_store

    with open_store(area) as s:
        assert s.keys == ["SYSTEM", "RELEASE"]
        run_id = s.get_or_create_run({"SYSTEM": "a", "RELEASE": "b"}, "r")
        test_id = s.get_or_create_test(run_id, "t")
    status = json.loads(mt("db", "status", "--area", str(area), "--format", "json").stdout)
    assert [(r["kind"], r["at_head"]) for r in status] == [("main", True), ("run", True)]
    assert "databases ok" in mt("db", "check", "--area", str(area)).stdout

    run_db = area / ".db" / f"{run_id}.db"
    c = sqlite3.connect(run_db)
    c.execute("INSERT INTO test_steps (test_id, stepname, state) VALUES (?, 's', 'end')",
              (test_id + 50,))
    c.commit()
    c.close()
    bad = mt("db", "check", "--area", str(area), check=False)
    assert bad.returncode == 1 and "1 test_steps rows of missing tests" in bad.stdout
    assert "removed 1 orphan test_steps rows" in mt("db", "cleanup", "--area", str(area)).stdout
    assert mt("db", "check", "--area", str(area)).returncode == 0


def test_status_reports_unconverted_legacy_db(area):
    sqlite3.connect(area / "megatest.db").execute("CREATE TABLE runs (id INTEGER)").connection.close()
    out = mt("db", "status", "--area", str(area)).stdout
    assert "legacy database, not converted yet" in out


def test_not_an_area_is_a_one_line_error(tmp_path):
    res = mt("db", "status", "--area", str(tmp_path / "nowhere"), check=False)
    assert res.returncode == 2 and "not a Megatest area" in res.stderr + res.stdout


def test_legacy_db_that_is_not_megatest_is_refused(area):
    sqlite3.connect(area / "megatest.db").execute("CREATE TABLE foo (id INTEGER)").connection.close()
    res = mt("db", "migrate", "--area", str(area), check=False)
    assert res.returncode == 2 and "not a Megatest database" in res.stderr + res.stdout


@pytest.fixture
def two_runs(area):
    """A migrated area with two runs of one test each; returns (area, {run_id: db path})."""
    from megatest.store import open_store

    mt("db", "migrate", "--area", str(area))
    dbs = {}
    with open_store(area) as s:
        for name in ("r1", "r2"):
            run_id = s.get_or_create_run({"SYSTEM": "a", "RELEASE": "b"}, name)
            s.get_or_create_test(run_id, "t")
            dbs[run_id] = area / ".db" / f"{run_id}.db"
    return area, dbs


def _sidecars(area):
    return sorted(p.name for p in (area / ".db").iterdir() if p.name.endswith(("-wal", "-shm")))


def test_read_only_commands_leave_no_wal_files_behind(two_runs):
    area, _ = two_runs
    for f in (area / ".db").iterdir():
        if f.name.endswith(("-wal", "-shm")):
            f.unlink()
    for args in (("db", "status"), ("db", "migrate"), ("db", "check")):
        mt(*args, "--area", str(area))
        assert _sidecars(area) == [], args


def _digests(area):
    import hashlib

    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted((area / ".db").glob("*.db"))}


def _one_line_error(res, path):
    err = res.stderr.strip()
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert str(path) in err and "cannot read this database" in err, err


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_run_db_is_named_and_nothing_else_changes(two_runs, damage):
    area, dbs = two_runs
    bad = dbs[max(dbs)]
    if damage == "truncate":
        with open(bad, "r+b") as f:
            f.truncate(5000)
    else:
        bad.write_bytes(b"this is not sqlite at all " * 200)
    before = _digests(area)
    for args in (("db", "status"), ("db", "migrate"), ("db", "cleanup"),
                 ("query", "tests", "--target", "a/b", "--runname", "%")):
        _one_line_error(mt(*args, "--area", str(area), check=False), bad)
    check = mt("db", "check", "--area", str(area), check=False)
    assert check.returncode == 1 and "Traceback" not in check.stderr
    lines = check.stdout.splitlines()
    assert any(ln.startswith(f"{bad}: integrity: cannot read this database") for ln in lines)
    # the other run's tests are not orphans, and the damaged run's file is not "missing"
    assert not any("missing-run-db" in ln or "orphan" in ln for ln in lines), lines
    assert _digests(area) == before  # cleanup refused: nothing removed or rewritten


def test_page_damage_found_by_check_is_one_line_per_problem(two_runs):
    area, dbs = two_runs
    bad = dbs[min(dbs)]
    size = bad.stat().st_size
    with open(bad, "r+b") as f:
        for page in range(1, size // 4096):
            f.seek(page * 4096 + 8)
            f.write(b"\x07" * 200)
    res = mt("db", "check", "--area", str(area), check=False)
    assert res.returncode == 1
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith(f"{bad}: integrity: ")]
    assert len(lines) == 1 and "***" not in lines[0], res.stdout


def test_damaged_main_db_is_named(two_runs):
    area, _ = two_runs
    main = area / ".db" / "main.db"
    with open(main, "r+b") as f:
        f.write(b"garbage garbage garbage garbage garbage garbage garbage garbage garbage")
    _one_line_error(mt("db", "status", "--area", str(area), check=False), main)
    err = mt("db", "status", "--area", str(area), check=False).stderr
    assert "remove it" not in err  # main.db holds every run: only a backup can help
    check = mt("db", "check", "--area", str(area), check=False)
    assert check.returncode == 1 and check.stdout.startswith(f"{main}: integrity: ")


def test_new_area_without_databases_is_healthy(area):
    res = mt("db", "check", "--area", str(area))
    assert "nothing to check" in res.stdout
    assert "nothing to clean" in mt("db", "cleanup", "--area", str(area)).stdout
    assert not (area / ".db").exists()  # looking changed nothing


def test_db_section_summary_is_one_line_in_root_help():
    import os

    res = subprocess.run([*MEGATEST, "--help"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"})
    line = next(ln for ln in res.stdout.splitlines() if "Databases:" in ln)
    assert "status, check, cleanup" in line, res.stdout
