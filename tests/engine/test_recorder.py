"""The store-backed reporter: queued writes, one transaction per flush, item roll-up kept."""

from __future__ import annotations

import pytest

from megatest.engine.recorder import StoreReporter
from megatest.store.api import Store
from megatest.store.testwrite import TestWriter


@pytest.fixture
def store(tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nA TEXT\n")
    s = Store.open(tmp_path, fields=["A"])
    yield s
    s.close()


def test_flush_writes_every_change_in_order_with_rollup(store, tmp_path):
    run_id = store.get_or_create_run({"A": "x"}, "r")
    ids = {p: store.get_or_create_test(run_id, "t", p) for p in ("1", "2")}
    seen = []
    with TestWriter(tmp_path, run_id) as writer:
        rep = StoreReporter(store, writer, run_id, lambda t, s, st, c: seen.append((t.full_name, s, st)))
        one, two = rep.ref("t", "1", ids["1"]), rep.ref("t", "2", ids["2"])
        rep.set_state_status(one, "RUNNING", "n/a", None)
        rep.set_state_status(one, "COMPLETED", "PASS", "fine")
        rep.set_state_status(two, "COMPLETED", "FAIL", None)
        rep.set_values(one, {"process_id": 42, "run_duration": 1.6})
        assert store.get_test(run_id, ids["1"]).state == "NOT_STARTED"  # queued only
        assert rep.current_state_status(one) == ("COMPLETED", "PASS")
        rep.flush()
    assert seen[1] == ("t/1", "COMPLETED", "PASS")
    first = store.get_test(run_id, ids["1"])
    assert (first.state, first.status, first.comment) == ("COMPLETED", "PASS", "fine")
    assert first.attemptnum == 42 and first.run_duration == 2
    top = store.get_test_by_name(run_id, "t", "")
    assert (top.state, top.status) == ("COMPLETED", "FAIL")


def test_a_failing_write_rolls_the_whole_flush_back(store, tmp_path):
    run_id = store.get_or_create_run({"A": "x"}, "r")
    test_id = store.get_or_create_test(run_id, "t")
    with TestWriter(tmp_path, run_id) as writer:
        rep = StoreReporter(store, writer, run_id, lambda *a: None)
        rep.set_state_status(rep.ref("t", "", test_id), "RUNNING", "n/a", None)
        rep.set_state_status(rep.ref("t", "", 99999), "RUNNING", "n/a", None)  # no such test
        with pytest.raises(Exception, match="99999"):
            rep.flush()
        assert not writer.conn.in_transaction
    assert store.get_test(run_id, test_id).state == "NOT_STARTED"


def test_merged_columns_wait_for_their_interval_unless_everything(store, tmp_path):
    run_id = store.get_or_create_run({"A": "x"}, "r")
    test_id = store.register_tests(run_id, [("t", "")])[("t", "")]
    with TestWriter(tmp_path, run_id) as writer:
        rep = StoreReporter(store, writer, run_id, lambda *a: None)
        ref = rep.ref("t", "", test_id)
        rep.set_values(ref, {"host": "h1"})
        rep.flush(everything=False)  # first flush: the interval has long passed
        rep.set_values(ref, {"host": "h2", "process_id": 9})
        rep.set_state_status(ref, "RUNNING", "n/a", None)
        rep.flush(everything=False)  # within the interval: the state goes, the columns wait
        rec = store.get_test(run_id, test_id)
        assert (rec.state, rec.host, rec.attemptnum) == ("RUNNING", "h1", 0)
        assert rep.pending()
        rep.flush()
        assert not rep.pending() and not writer.conn.in_transaction
    rec = store.get_test(run_id, test_id)
    assert (rec.host, rec.attemptnum) == ("h2", 9)
