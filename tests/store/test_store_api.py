"""The Store API as the run engine uses it."""

import sqlite3

import pytest

from megatest.errors import StoreError, UsageError
from megatest.store import migrations, open_store
from megatest.store.records import TestDataRow

FIELDS = ["SYSTEM", "RELEASE"]
TARGET = {"SYSTEM": "ubuntu", "RELEASE": "v1"}


def test_new_area_is_created_at_head_with_its_keys(tmp_path):
    with open_store(tmp_path, fields=FIELDS) as s:
        run_id = s.get_or_create_run(TARGET, "r1")
    assert migrations.current(tmp_path / ".db" / "main.db") == migrations.head("main")
    assert migrations.current(tmp_path / ".db" / f"{run_id}.db") == migrations.head("run")
    db = sqlite3.connect(tmp_path / ".db" / "main.db")
    assert db.execute("SELECT fieldname FROM keys ORDER BY id").fetchall() == [("SYSTEM",), ("RELEASE",)]
    with open_store(tmp_path) as s:
        assert s.keys == FIELDS


def test_keys_can_be_appended_but_not_changed(tmp_path):
    open_store(tmp_path, fields=FIELDS).close()
    with open_store(tmp_path, fields=[*FIELDS, "BUILD"]) as s:
        assert s.keys == [*FIELDS, "BUILD"]
    with pytest.raises(StoreError, match="keys can only be appended"):
        open_store(tmp_path, fields=["RELEASE", "SYSTEM"])
    with pytest.raises(StoreError, match="clashes"):
        open_store(tmp_path / "other", fields=["runname"])


def test_legacy_area_must_be_migrated_first(tmp_path):
    (tmp_path / "megatest.db").write_bytes(b"")
    with pytest.raises(StoreError, match="db migrate"):
        open_store(tmp_path, fields=FIELDS)


def test_runs_are_unique_per_target_and_name(store):
    a = store.get_or_create_run(TARGET, "nightly")
    b = store.get_or_create_run(TARGET, "nightly")
    c = store.get_or_create_run({"SYSTEM": "sles", "RELEASE": "v1"}, "nightly")
    assert a == b != c
    assert store.get_run(c).target == "sles/v1"
    assert [r.id for r in store.find_runs("ubuntu/%")] == [a]
    assert [r.id for r in store.find_runs("*/v1", "night*")] == [a, c]
    assert store.find_runs(runname_patt="other") == []
    with pytest.raises(UsageError):
        store.get_or_create_run({"SYSTEM": "x"}, "r")


def test_deleted_run_is_revived(store, run_id):
    store.set_run_state_status(run_id, state="deleted")
    assert store.find_runs() == []
    assert store.get_or_create_run(TARGET, "nightly", state="new") == run_id
    assert store.get_run(run_id).state == "new"


def test_lock_is_a_flag_with_an_access_log(store, run_id):
    store.lock_run(run_id, user="bob")
    assert store.is_locked(run_id) and store.get_run(run_id).state == "new"
    store.unlock_run(run_id, user="bob")
    assert not store.is_locked(run_id)
    db = sqlite3.connect(store.main_path)
    assert db.execute("SELECT user, args FROM access_log ORDER BY id").fetchall() == [
        ("bob", f"locked {run_id}"), ("bob", f"unlocked {run_id}")]


def test_test_ids_are_global_and_map_to_their_run(store, run_id):
    other = store.get_or_create_run(TARGET, "other")
    a = store.get_or_create_test(run_id, "t1")
    b = store.get_or_create_test(other, "t1")
    assert a != b
    assert store.test_run_id(a) == run_id and store.test_run_id(b) == other
    assert store.get_or_create_test(run_id, "t1") == a


def test_item_write_rolls_up_into_parent(store, run_id):
    a = store.get_or_create_test(run_id, "t", "a")
    b = store.get_or_create_test(run_id, "t", "b")
    parent = store.get_test_by_name(run_id, "t", "")
    assert parent is not None and parent.state == "NOT_STARTED"
    store.set_test_state_status(run_id, a, "COMPLETED", "PASS")
    store.set_test_state_status(run_id, b, "RUNNING", "n/a")
    got = store.get_test(run_id, parent.id)
    assert (got.state, got.status) == ("RUNNING", "PASS")
    store.set_test_state_status(run_id, b, "COMPLETED", "FAIL", comment="boom")
    got = store.get_test(run_id, parent.id)
    assert (got.state, got.status) == ("COMPLETED", "FAIL")
    assert store.get_test(run_id, b).comment == "boom"


def test_deleted_sibling_does_not_become_parent_state(store, run_id):
    a = store.get_or_create_test(run_id, "t", "a")
    b = store.get_or_create_test(run_id, "t", "b")
    store.set_test_state_status(run_id, b, "DELETED", "n/a")
    store.set_test_state_status(run_id, a, "COMPLETED", "PASS")
    p = store.get_test_by_name(run_id, "t")
    assert (p.state, p.status) == ("COMPLETED", "PASS")


def test_status_only_write_uses_the_items_stored_state(store, run_id):
    a = store.get_or_create_test(run_id, "t", "a")
    store.set_test_state_status(run_id, a, "RUNNING", "n/a")
    store.set_test_state_status(run_id, a, None, "WARN")
    p = store.get_test_by_name(run_id, "t")
    assert (p.state, p.status) == ("RUNNING", "WARN")


def test_launched_stamps_event_time(store, run_id):
    t = store.get_or_create_test(run_id, "t")
    store.update_test_fields(run_id, t, event_time=5)
    store.set_test_state_status(run_id, t, "LAUNCHED", "n/a")
    assert store.get_test(run_id, t).event_time > 5


def test_get_tests_filters(store, run_id):
    for name, item in (("aa", ""), ("ab", "x"), ("ab", "y"), ("b", "")):
        store.get_or_create_test(run_id, name, item)
    store.set_test_state_status(run_id, store.get_or_create_test(run_id, "b"), "COMPLETED", "PASS")
    names = lambda **kw: [t.fullname for t in store.get_tests(run_id, **kw)]  # noqa: E731
    assert names() == ["aa", "ab", "ab/x", "ab/y", "b"]
    assert names(testpatt="ab/") == ["ab"]
    assert names(testpatt="a*/y,b") == ["ab/y", "b"]
    assert names(testpatt="A%") == ["aa", "ab", "ab/x", "ab/y"]  # LIKE is case-insensitive
    assert names(testpatt="A*") == []                           # GLOB is not
    assert names(states=["COMPLETED"]) == ["b"]
    assert names(statuses=["PASS"], not_in=True) == ["aa", "ab", "ab/x", "ab/y"]


def test_update_fields_and_pid(store, run_id):
    t = store.get_or_create_test(run_id, "t")
    store.update_test_fields(run_id, t, host="h1", pid=4242, rundir="/r", final_logf="x.html")
    rec = store.get_test(run_id, t)
    assert (rec.host, rec.attemptnum, rec.rundir, rec.final_logf) == ("h1", 4242, "/r", "x.html")
    with pytest.raises(UsageError):
        store.update_test_fields(run_id, t, state="RUNNING")


def test_steps_one_row_per_state(store, run_id):
    t = store.get_or_create_test(run_id, "t")
    store.add_step(run_id, t, "build", "start", "-", "build.log")
    store.add_step(run_id, t, "build", "end", 0, "build.log")
    store.add_step(run_id, t, "build", "end", 2, "build.log", "again")
    steps = store.get_steps(run_id, t)
    assert [(s.stepname, s.state, s.status, s.comment) for s in steps] == [
        ("build", "start", "-", ""), ("build", "end", "2", "again")]


def test_test_data_judged_and_rolled_up(store, run_id):
    t = store.get_or_create_test(run_id, "t")
    store.set_test_state_status(run_id, t, "RUNNING", "AUTO")
    status = store.add_test_data(run_id, t, [
        TestDataRow(category="perf", variable="x", value=1.0, expected=1.05, tol=0.1),
        {"category": "perf", "variable": "y", "value": 5, "expected": 3, "tol": "<"},
    ])
    assert status == "FAIL"
    rec = store.get_test(run_id, t)
    assert (rec.pass_count, rec.fail_count, rec.status) == (1, 1, "FAIL")
    assert [d.status for d in store.get_test_data(run_id, t, "perf")] == ["pass", "fail"]
    store.add_test_data(run_id, t, [{"category": "perf", "variable": "y", "value": 1,
                                     "expected": 3, "tol": "<"}])
    assert store.get_test(run_id, t).fail_count == 0


def test_auto_status_triggers_data_rollup(store, run_id):
    t = store.get_or_create_test(run_id, "t")
    store.add_test_data(run_id, t, [{"variable": "v", "status": "pass"}])
    store.set_test_state_status(run_id, t, "COMPLETED", "AUTO")
    assert store.get_test(run_id, t).status == "PASS"


def test_heartbeat_and_dead_tests(store, run_id):
    alive = store.get_or_create_test(run_id, "alive")
    dead = store.get_or_create_test(run_id, "dead", "i1")
    for t in (alive, dead):
        store.set_test_state_status(run_id, t, "RUNNING", "n/a")
        store.update_test_fields(run_id, t, event_time=1000, uname="Linux")
    assert store.heartbeat(run_id, alive, cpuload=0.5, now=9000) == 8000
    assert store.find_dead_tests(run_id, deadtime=7200, now=9100) == [dead]
    assert store.mark_dead_tests(run_id, deadtime=7200, now=9100) == [dead]
    rec = store.get_test(run_id, dead)
    assert (rec.state, rec.status, rec.comment) == ("COMPLETED", "DEAD", "Test failed to complete")
    parent = store.get_test_by_name(run_id, "dead")
    assert parent.state == "COMPLETED"


def test_kill_request(store, run_id):
    t = store.get_or_create_test(run_id, "t")
    assert not store.kill_requested(run_id, t)
    store.request_kill(run_id, t)
    assert store.kill_requested(run_id, t)


def test_rollup_run_sets_state_status_end_time_and_stats(store, run_id):
    a = store.get_or_create_test(run_id, "a")
    b = store.get_or_create_test(run_id, "b", "i")
    store.set_test_state_status(run_id, a, "RUNNING", "n/a")
    store.set_test_state_status(run_id, b, "COMPLETED", "PASS")
    store.rollup_run(run_id)
    run = store.get_run(run_id)
    assert (run.state, run.end_time) == ("RUNNING", None)
    store.set_test_state_status(run_id, a, "COMPLETED", "FAIL")
    store.update_test_fields(run_id, a, event_time=100, run_duration=50)
    store.update_test_fields(run_id, store.get_test_by_name(run_id, "b").id,
                             event_time=100, run_duration=20)
    store.rollup_run(run_id)
    run = store.get_run(run_id)
    assert (run.state, run.status, run.end_time) == ("COMPLETED", "FAIL", 150)
    assert (run.pass_count, run.fail_count) == (1, 1)
    # stats leave out the never-run top-level rows (uname n/a, item_path '')
    assert store.get_run_stats(run_id) == [("COMPLETED", "PASS", 1)]


def test_remove_run_drops_its_file(store, run_id):
    t = store.get_or_create_test(run_id, "t")
    path = store.run_path(run_id)
    assert path.exists()
    store.remove_run(run_id)
    assert not path.exists() and store.get_run(run_id) is None and store.test_run_id(t) is None


def test_test_meta_and_vars(store):
    store.set_test_meta("t", author="me", tags="a,b")
    store.set_test_meta("t", jobgroup="big")
    meta = store.get_test_meta("t")
    assert (meta["author"], meta["tags"], meta["jobgroup"]) == ("me", "a,b", "big")
    store.set_var("x", 3)
    assert store.get_var("x") == "3"
