"""Bulk registration of test rows: one transaction, idempotent, items with their parents."""

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from megatest.errors import UsageError
from megatest.store.register import ordered_keys


def _rows(store, run_id):
    return {(t.testname, t.item_path): (t.id, t.state, t.status)
            for t in store.get_tests(run_id, include_deleted=True)}


def test_registers_plain_tests_items_and_their_parents(store, run_id):
    ids = store.register_tests(run_id, [("a", ""), ("b", "x/1"), ("b", "x/2")],
                               state="NOT_STARTED", status="n/a")
    assert set(ids) == {("a", ""), ("b", ""), ("b", "x/1"), ("b", "x/2")}
    assert len(set(ids.values())) == 4
    rows = _rows(store, run_id)
    assert {k: v[0] for k, v in rows.items()} == ids
    # every id maps back to its run (ids are unique in the whole area)
    assert all(store.test_run_id(i) == run_id for i in ids.values())


def test_state_and_status_go_to_the_asked_rows_not_to_implied_parents(store, run_id):
    ids = store.register_tests(run_id, [("a", ""), ("b", "1")], state="LAUNCHED",
                               status="n/a", comment="queued")
    rows = _rows(store, run_id)
    assert rows[("a", "")][1:] == ("LAUNCHED", "n/a")
    assert rows[("b", "1")][1:] == ("LAUNCHED", "n/a")
    assert rows[("b", "")][1:] == ("NOT_STARTED", "n/a")
    assert store.get_test(run_id, ids[("a", "")]).comment == "queued"


def test_registering_again_returns_the_same_ids_and_keeps_the_rows(store, run_id):
    first = store.register_tests(run_id, [("a", ""), ("b", "1")])
    store.set_test_state_status(run_id, first[("a", "")], "COMPLETED", "PASS")
    again = store.register_tests(run_id, [("b", "1"), ("a", ""), ("b", "2")], state="LAUNCHED")
    assert {k: again[k] for k in first} == first
    assert again[("b", "2")] not in first.values()
    rows = _rows(store, run_id)
    assert rows[("a", "")][1:] == ("COMPLETED", "PASS")  # an existing row is not reset
    assert len(rows) == 4
    # no id was allocated for the rows that existed
    main = sqlite3.connect(store.main_path)
    assert main.execute("SELECT count(*) FROM test_ids WHERE run_id=?", (run_id,)).fetchone() == (4,)
    main.close()


def test_get_or_create_test_agrees_with_register_tests(store, run_id):
    item = store.get_or_create_test(run_id, "t", "i1")
    ids = store.register_tests(run_id, [("t", "i1")])
    assert ids[("t", "i1")] == item and ("t", "") in ids
    assert store.get_or_create_test(run_id, "t") == ids[("t", "")]


def test_ids_are_unique_across_runs(store, run_id):
    other = store.get_or_create_run({"SYSTEM": "ubuntu", "RELEASE": "v2"}, "nightly")
    a = store.register_tests(run_id, [("t", str(i)) for i in range(5)])
    b = store.register_tests(other, [("t", str(i)) for i in range(5)])
    assert not set(a.values()) & set(b.values())
    assert {store.test_run_id(i) for i in b.values()} == {other}


def test_duplicates_and_order_in_the_request():
    keys, implied = ordered_keys([("b", "2"), ("a", ""), ("b", "2"), ("b", "1"), ("b", "")])
    assert keys == [("b", ""), ("b", "2"), ("a", ""), ("b", "1")]
    assert implied == set()  # ("b", "") was asked for too
    assert ordered_keys([("c", "1")])[1] == {("c", "")}


def test_empty_request_touches_nothing(store, run_id):
    assert store.register_tests(run_id, []) == {}


def test_a_failure_inside_leaves_neither_rows_nor_ids(store, run_id):
    # a trigger makes the third insert fail: the whole registration must roll back
    run_db = store.run_path(run_id)
    conn = sqlite3.connect(run_db)
    conn.execute("CREATE TRIGGER boom BEFORE INSERT ON tests WHEN NEW.testname='bad' "
                 "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    conn.commit()
    conn.close()
    with pytest.raises(sqlite3.DatabaseError, match="refused"):
        store.register_tests(run_id, [("a", ""), ("b", ""), ("bad", "")])
    assert _rows(store, run_id) == {}
    main = sqlite3.connect(store.main_path)
    assert main.execute("SELECT count(*) FROM test_ids").fetchone() == (0,)
    main.close()


REGISTER = textwrap.dedent("""
    import sys
    from megatest.store import open_store
    s = open_store(sys.argv[1])
    ids = s.register_tests(int(sys.argv[2]), [("t", str(i)) for i in range(60)])
    print(sorted(ids.items()))
    """)


def test_concurrent_registrations_agree_on_every_id(store, run_id):
    procs = [subprocess.Popen([sys.executable, "-c", REGISTER, str(store.area_root), str(run_id)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert len({o[0] for o in outs}) == 1  # all three got the same ids
    assert len(_rows(store, run_id)) == 61
    main = sqlite3.connect(store.main_path)
    assert main.execute("SELECT count(*) FROM test_ids").fetchone() == (61,)
    main.close()


def test_test_meta_of_many_tests_in_one_call(store):
    store.set_test_meta("a", author="old", tags="x")
    store.set_test_meta_many({"a": {"author": "me"}, "b": {"jobgroup": "big"}, "c": {}})
    a, b, c = (store.get_test_meta(n) for n in "abc")
    assert (a["author"], a["tags"]) == ("me", "x")  # only the given field changed
    assert b["jobgroup"] == "big" and c is not None
    with pytest.raises(UsageError, match="colour"):
        store.set_test_meta_many({"d": {"author": "z"}, "e": {"colour": "red"}})
    assert store.get_test_meta("d") is None  # refused before anything was written


def test_many_state_changes_in_one_call_match_single_calls(store, run_id):
    oracle = store.get_or_create_run({"SYSTEM": "ubuntu", "RELEASE": "v2"}, "oracle")
    script = [("1", "RUNNING", "n/a", None), ("2", "COMPLETED", "PASS", "ok"),
              ("1", "INCOMPLETE", "DEAD", "stale"), ("2", "NOT_STARTED", "n/a", None)]
    ids = store.register_tests(run_id, [("t", "1"), ("t", "2")])
    oids = store.register_tests(oracle, [("t", "1"), ("t", "2")])
    many = store.set_tests_state_status(
        run_id, [(ids[("t", i)], st, stt, c) for i, st, stt, c in script])
    single = [store.set_test_state_status(oracle, oids[("t", i)], st, stt, c)
              for i, st, stt, c in script]
    assert many == single
    strip = {k: v[1:] for k, v in _rows(store, run_id).items()}
    assert strip == {k: v[1:] for k, v in _rows(store, oracle).items()}
    assert strip[("t", "1")] == ("INCOMPLETE", "DEAD")
    with pytest.raises(Exception, match="99999"):  # all or nothing
        store.set_tests_state_status(run_id, [(ids[("t", "2")], "RUNNING", "n/a", None),
                                              (99999, "RUNNING", "n/a", None)])
    assert _rows(store, run_id)[("t", "2")][1:] == ("NOT_STARTED", "n/a")
