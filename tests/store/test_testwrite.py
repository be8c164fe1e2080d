"""The stdlib writer under the Store: schema names, rollups, steps, data, heartbeats."""

import subprocess
import sys

import pytest

from megatest.errors import StoreError
from megatest.store import migrations, schema
from megatest.store.testwrite import RUN_HEAD, USES, TestWriter

TARGET = {"SYSTEM": "ubuntu", "RELEASE": "v1"}


def test_lean_writer_matches_the_schema_definition():
    assert RUN_HEAD == migrations.head("run")
    for table, columns in USES.items():
        assert set(columns) <= set(schema.column_names(table)), table


def test_lean_import_does_not_pull_sqlalchemy():
    code = ("import sys, megatest.store.testwrite; "
            "print('sqlalchemy' in sys.modules or 'alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


SCRIPT = [
    ("a", "RUNNING", "n/a"), ("b", "COMPLETED", "PASS"), ("a", None, "WARN"),
    ("c", "NOT_STARTED", "PREQ_FAIL"), ("a", "COMPLETED", "FAIL"), ("c", "DELETED", "n/a"),
    ("b", "KILLED", "KILLED"),
]


def _play(store, run_id, writer):
    ids = {i: store.get_or_create_test(run_id, "t", i) for i in "abc"}
    results = []
    for item, st, stt in SCRIPT:
        if writer is None:
            results.append(store.set_test_state_status(run_id, ids[item], st, stt))
        else:
            results.append(writer.set_state_status(ids[item], st, stt))
    return results, [(t.fullname, t.state, t.status) for t in store.get_tests(run_id, include_deleted=True)]


def test_a_separate_writer_and_the_store_roll_up_alike(store):
    via_store = _play(store, store.get_or_create_run(TARGET, "r1"), None)
    r2 = store.get_or_create_run(TARGET, "r2")
    with TestWriter(store.area_root, r2) as w:
        via_lean = _play(store, r2, w)
    assert via_store == via_lean
    assert via_store[1][0] == ("t", "KILLED", "FAIL")


def test_lean_steps_data_heartbeat(store, run_id):
    t = store.get_or_create_test(run_id, "t")
    store.set_test_state_status(run_id, t, "RUNNING", "n/a")
    with TestWriter(store.area_root, run_id) as w:
        assert w.test_id("t") == t
        w.add_step(t, "s1", "start", "-", "s1.log")
        w.add_step(t, "s1", "end", "0", "s1.log")
        assert w.add_test_data(t, [{"variable": "x", "value": 2, "expected": 1, "tol": ">"}]) == "PASS"
        start = store.get_test(run_id, t).event_time
        assert w.heartbeat(t, cpuload=1.5, now=start + 30) == 30
    rec = store.get_test(run_id, t)
    assert (rec.run_duration, rec.cpuload, rec.pass_count, rec.status) == (30, 1.5, 1, "PASS")
    assert [(s.state, s.status) for s in store.get_steps(run_id, t)] == [("start", "-"), ("end", "0")]


def test_lean_writer_refuses_missing_or_old_db(store, run_id, tmp_path):
    with pytest.raises(StoreError, match="no database"):
        TestWriter(store.area_root, run_id + 100)
    migrations.downgrade(store.run_path(run_id), "run", "run_0001")
    with pytest.raises(StoreError, match="db migrate"):
        TestWriter(store.area_root, run_id)


def _last_updates(path, test_id):
    import sqlite3

    c = sqlite3.connect(path)
    try:
        return [c.execute(f"SELECT last_update FROM {table} WHERE {col}=?", (test_id,)).fetchone()[0]
                for table, col in (("tests", "id"), ("test_steps", "test_id"),
                                   ("test_data", "test_id"))]
    finally:
        c.close()


def _age_rows(path, test_id):
    import sqlite3

    c = sqlite3.connect(path)
    with c:
        c.execute("UPDATE tests SET last_update=5 WHERE id=?", (test_id,))
        c.execute("UPDATE test_steps SET last_update=5 WHERE test_id=?", (test_id,))
        c.execute("UPDATE test_data SET last_update=5 WHERE test_id=?", (test_id,))
    c.close()


@pytest.mark.parametrize("revision", ["run_0002", "run_0003", "run_0004"])
def test_every_update_stamps_last_update(store, run_id, revision):
    # run_0003 has no triggers: the writer's own statements must keep last_update current,
    # which dashboards and `-since` style queries sort and filter on
    import time

    path = store.run_path(run_id)
    if revision != RUN_HEAD:
        migrations.downgrade(path, "run", revision)  # an area made before run_0003: still written
    t = store.get_or_create_test(run_id, "t")
    with TestWriter(store.area_root, run_id) as w:
        w.add_step(t, "s1", "start", "-")
        w.add_test_data(t, [{"variable": "x", "value": 1}])
        _age_rows(path, t)
        before = int(time.time())
        w.set_state_status(t, "RUNNING", "n/a")
        w.add_step(t, "s1", "start", "0")
        w.add_test_data(t, [{"variable": "x", "value": 2}])
    assert all(stamp >= before for stamp in _last_updates(path, t))
    assert migrations.current(path) == revision


def test_a_run_db_at_run_0002_is_migrated_to_the_head(store, run_id):
    from megatest.store import maintenance

    path = store.run_path(run_id)
    migrations.downgrade(path, "run", "run_0002")
    said = []
    assert maintenance.migrate(store.area_root, say=said.append)
    assert migrations.current(path) == RUN_HEAD == "run_0004"
    assert any("run_0002 -> run_0004" in line for line in said)
