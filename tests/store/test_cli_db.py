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
    from megatest.store.api import Store

    with Store.open(area) as s:
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
