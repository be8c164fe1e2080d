"""Run size: an item's write, the kill-request poll and listings cost the same in a run of 50
items as in one of 1,000 (counted in SQLite VM instructions, not timed); the kept item counts
roll parents up exactly as the scan of the item rows did, and `db check`/`db cleanup` find and
mend counts that went wrong."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from megatest.store import item_counts, maintenance, migrations, open_store
from megatest.store.testwrite import TestWriter

FIELDS = ["SYSTEM", "RELEASE"]
TARGET = {"SYSTEM": "ubuntu", "RELEASE": "v1"}


@contextmanager
def vm_steps(conn: sqlite3.Connection) -> Iterator[Callable[[], int]]:
    """Counts the VM instructions SQLite runs on `conn` inside the block (every row read or
    written costs some; a seek in a deeper B-tree costs none more)."""
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0

    conn.set_progress_handler(tick, 1)
    try:
        yield lambda: count[0]
    finally:
        conn.set_progress_handler(None, 1)


def _run_with_items(tmp_path, n: int, revision: str | None = None):
    """A store and run whose test `t` has `n` items, the last few of them RUNNING."""
    store = open_store(tmp_path / f"area{n}{revision or ''}", fields=FIELDS)
    run_id = store.get_or_create_run(TARGET, "nightly")
    if revision is not None:
        store.close()
        migrations.downgrade(store.run_path(run_id), "run", revision)
        store = open_store(tmp_path / f"area{n}{revision}", fields=FIELDS)
    ids = store.register_tests(run_id, [("t", f"i{k:05d}") for k in range(n)])
    done = [(ids[("t", f"i{k:05d}")], "COMPLETED", "PASS", None) for k in range(n - 3)]
    store.set_tests_state_status(run_id, done)
    return store, run_id, ids


def _item_write_cost(tmp_path, n: int, revision: str | None = None) -> int:
    store, run_id, ids = _run_with_items(tmp_path, n, revision)
    try:
        with TestWriter(store.area_root, run_id) as w, vm_steps(w.conn) as steps:
            w.set_state_status(ids[("t", f"i{n - 1:05d}")], "RUNNING", "n/a")
            return steps()
    finally:
        store.close()


def test_an_item_write_costs_the_same_in_a_run_of_50_or_1000_items(tmp_path):
    small, large = _item_write_cost(tmp_path, 50), _item_write_cost(tmp_path, 1000)
    assert large == small


def test_before_run_0004_an_item_write_still_reads_every_sibling(tmp_path):
    # the fallback for run dbs not migrated yet: correct, and as costly as it always was
    small = _item_write_cost(tmp_path, 50, "run_0003")
    large = _item_write_cost(tmp_path, 1000, "run_0003")
    assert large > 10 * small


def _kill_poll_cost(tmp_path, n: int) -> int:
    store, run_id, ids = _run_with_items(tmp_path, n)
    try:
        store.request_kill(run_id, ids[("t", "i00001")])
        with vm_steps(store.run_writer(run_id).conn) as steps:
            found = store.get_tests(run_id, states=["KILLREQ"])
            assert [t.item_path for t in found] == ["i00001"]
            return steps()
    finally:
        store.close()


def test_the_kill_request_poll_costs_the_same_in_a_run_of_50_or_1000_items(tmp_path):
    assert _kill_poll_cost(tmp_path, 1000) == _kill_poll_cost(tmp_path, 50)


STATES = ["NOT_STARTED", "LAUNCHED", "RUNNING", "COMPLETED", "KILLED", "DELETED", "STUCK"]
STATUSES = ["n/a", "PASS", "FAIL", "WARN", "PREQ_FAIL", "CHECK", "ABORT"]


def test_counted_rollup_gives_the_parent_the_scan_gave(tmp_path):
    rng = random.Random(4)
    counted, run_a, ids_a = _run_with_items(tmp_path, 8)
    scanned, run_b, ids_b = _run_with_items(tmp_path, 8, "run_0003")
    try:
        wa, wb = counted.run_writer(run_a), scanned.run_writer(run_b)
        assert wa._counted and not wb._counted
        for _ in range(400):
            item = ("t", f"i{rng.randrange(8):05d}")
            state = rng.choice([*STATES, None])
            status = rng.choice([*STATUSES, None])
            got = wa.set_state_status(ids_a[item], state, status)
            assert got == wb.set_state_status(ids_b[item], state, status)
            top_a, top_b = counted.get_test_by_name(run_a, "t"), scanned.get_test_by_name(run_b, "t")
            assert (top_a.state, top_a.status) == (top_b.state, top_b.status)
        # and the counts are still those of the rows
        assert item_counts.mismatches(wa.conn) == {}
    finally:
        counted.close()
        scanned.close()


def test_items_inserted_deleted_or_renamed_by_other_writers_are_counted(tmp_path):
    store, run_id, _ids = _run_with_items(tmp_path, 5)
    try:
        conn = sqlite3.connect(store.run_path(run_id))
        with conn:
            conn.execute("DELETE FROM tests WHERE item_path='i00000'")
            conn.execute("UPDATE tests SET testname='u' WHERE item_path='i00001'")
            conn.execute("UPDATE tests SET testname='v', item_path='' WHERE item_path='i00002'")
            conn.execute("INSERT INTO tests (id, run_id, testname, item_path, state, status) "
                         f"VALUES (999, {run_id}, 't', 'x', NULL, NULL)")
        assert item_counts.mismatches(conn) == {}
        conn.close()
    finally:
        store.close()


def test_migration_counts_the_items_already_there(tmp_path):
    store, run_id, _ids = _run_with_items(tmp_path, 20, "run_0003")
    path = store.run_path(run_id)
    store.close()
    migrations.upgrade(path, "run")
    conn = sqlite3.connect(path)
    try:
        kept = dict(((s, st), n) for s, st, n in conn.execute(
            "SELECT state, status, n FROM item_counts WHERE testname='t'"))
        assert kept == {("COMPLETED", "PASS"): 17, ("NOT_STARTED", "n/a"): 3}
    finally:
        conn.close()


def test_db_check_finds_wrong_counts_and_cleanup_recounts_them(tmp_path):
    store, run_id, _ids = _run_with_items(tmp_path, 10)
    area, path = store.area_root, store.run_path(run_id)
    store.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE item_counts SET n = n + 5 WHERE state='COMPLETED'")
    conn.close()
    problems = [p for p in maintenance.check(area) if p.kind == "item-counts"]
    assert [p.message for p in problems] == [
        "1 item counts differ from the items' rows: t COMPLETED/PASS kept 12, counted 7"]
    said: list[str] = []
    maintenance.cleanup(area, say=said.append)
    assert any("recounted the item counts" in line for line in said)
    assert not [p for p in maintenance.check(area) if p.kind == "item-counts"]


@pytest.mark.parametrize("page", [1, 2, 1000])
def test_iter_tests_pages_through_the_rows_get_tests_gives(tmp_path, page):
    store, run_id, _ids = _run_with_items(tmp_path, 7)
    try:
        store.register_tests(run_id, [("a", ""), ("z", "")])
        want = [(t.testname, t.item_path) for t in store.get_tests(run_id)]
        got = [(t.testname, t.item_path) for t in store.iter_tests(run_id, page=page)]
        assert got == want and len(got) == 10
        done = [(t.testname, t.item_path)
                for t in store.iter_tests(run_id, states=["COMPLETED"], page=page)]
        assert done == [("t", f"i{k:05d}") for k in range(4)]
    finally:
        store.close()
