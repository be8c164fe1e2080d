"""The store-backed reporter: queued writes, one transaction per flush, item roll-up kept."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from megatest.engine.recorder import StoreReporter
from megatest.engine.run_events import RunEvents, RunListener
from megatest.store import open_store


@pytest.fixture
def store(tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nA TEXT\n")
    s = open_store(tmp_path, fields=["A"])
    yield s
    s.close()


class _Calls(RunListener):
    def __init__(self, call):
        self.call = call

    def test_changed(self, change):
        self.call(*change)


@contextmanager
def _reporter(store, run_id, on_change=None):
    """A reporter on the run, its test changes told to `on_change(test, state, status,
    comment)`: (the run's writer, the reporter)."""
    events = RunEvents()
    if on_change is not None:
        events.subscribe(_Calls(on_change))
    rep = StoreReporter(store, run_id, events)
    yield rep.writer, rep


def test_flush_writes_every_change_in_order_with_rollup(store, tmp_path):
    run_id = store.get_or_create_run({"A": "x"}, "r")
    ids = {p: store.get_or_create_test(run_id, "t", p) for p in ("1", "2")}
    seen = []
    with _reporter(store, run_id, lambda t, s, st, c: seen.append((t.full_name, s, st))) as (writer, rep):
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
    with _reporter(store, run_id) as (writer, rep):
        rep.set_state_status(rep.ref("t", "", test_id), "RUNNING", "n/a", None)
        rep.set_state_status(rep.ref("t", "", 99999), "RUNNING", "n/a", None)  # no such test
        with pytest.raises(Exception, match="99999"):
            rep.flush()
        assert not writer.conn.in_transaction
    assert store.get_test(run_id, test_id).state == "NOT_STARTED"


@contextmanager
def _two_tests(store, tmp_path):
    """A run with tests t and u, and a reporter on it: (run id, writer, reporter, t, u)."""
    run_id = store.get_or_create_run({"A": "x"}, "r")
    ids = store.register_tests(run_id, [("t", ""), ("u", "")])
    with _reporter(store, run_id) as (writer, rep):
        yield run_id, writer, rep, rep.ref("t", "", ids[("t", "")]), rep.ref("u", "", ids[("u", "")])


def test_merged_columns_wait_for_their_interval_unless_everything(store, tmp_path):
    with _two_tests(store, tmp_path) as (run_id, writer, rep, t, u):
        rep.set_values(t, {"host": "h1"})
        rep.flush(everything=False)  # first flush: the interval has long passed
        rep.set_values(t, {"host": "h2", "process_id": 9})
        rep.set_values(u, {"host": "h3"})
        rep.set_state_status(t, "RUNNING", "n/a", None)
        rep.flush(everything=False)  # within the interval: t's columns go with its state
        rec_t, rec_u = store.get_test(run_id, t.test_id), store.get_test(run_id, u.test_id)
        assert (rec_t.state, rec_t.host, rec_t.attemptnum) == ("RUNNING", "h2", 9)
        assert rec_u.host != "h3"  # u changed no state: its column waits
        assert rep.pending()
        rep.flush()
        assert not rep.pending() and not writer.conn.in_transaction
    assert store.get_test(run_id, u.test_id).host == "h3"


def _row(store, run_id, test_id):
    r = store.get_test(run_id, test_id)
    return (r.state, r.status, r.comment, r.host, r.attemptnum, r.run_duration)


LIFE = ["NOT_STARTED", "LAUNCHED", "REMOTEHOSTSTART", "RUNNING", "RUNNING", "COMPLETED"]


@pytest.mark.parametrize("seed", range(12))
def test_merged_writes_leave_the_rows_change_by_change_writing_leaves(store, tmp_path, seed):
    """Random lives of three items and a plain test (started, running, completed, reset and
    started again), flushed at random points: the rows (parent roll-up included) equal those
    of writing every change on its own."""
    import random

    rnd = random.Random(seed)
    keys = [("t", "1"), ("t", "2"), ("t", "3"), ("p", "")]
    run_id = store.get_or_create_run({"A": "x"}, "merged")
    oracle = store.get_or_create_run({"A": "x"}, "oracle")
    ids = store.register_tests(run_id, keys)
    oracle_ids = store.register_tests(oracle, keys)
    stage = dict.fromkeys(keys, 0)
    statuses = ["n/a", "PASS", "FAIL", "WARN", "ABORT", None]
    with _reporter(store, run_id) as (writer, rep):
        for _ in range(60):
            key = rnd.choice(keys)
            ref = rep.ref(key[0], key[1], ids[key])
            kind = rnd.random()
            if kind < 0.6:
                stage[key] = (stage[key] + 1) % len(LIFE) if rnd.random() < 0.8 else stage[key]
                state = LIFE[stage[key]]
                if state == "COMPLETED" and rnd.random() < 0.3:
                    state = "KILLED"
                status = rnd.choice(statuses)
                comment = rnd.choice([None, "", "why"])
                rep.set_state_status(ref, state, status, comment)
                store.set_test_state_status(oracle, oracle_ids[key], state, status, comment)
            elif kind < 0.75:
                values = {"host": rnd.choice(["a", "b"]), "process_id": rnd.randint(1, 9)}
                rep.set_values(ref, values)
                store.update_test_fields(oracle, oracle_ids[key], host=values["host"],
                                         pid=values["process_id"])
            elif kind < 0.85:
                rep.step(ref, rnd.choice(["s1", "s2"]), "end", "0", "", "")
            else:
                rep.flush(everything=rnd.random() < 0.5)
        rep.flush()
    for key in [*keys, ("t", "")]:
        got = store.get_test_by_name(run_id, *key)
        want = store.get_test_by_name(oracle, *key)
        assert _row(store, run_id, got.id) == _row(store, oracle, want.id), key


@pytest.mark.parametrize("theirs", [("COMPLETED", "WARN"), ("KILLREQ", "n/a")])
def test_a_start_state_never_overwrites_what_the_test_or_a_user_wrote(store, tmp_path, theirs):
    run_id = store.get_or_create_run({"A": "x"}, "r")
    test_id = store.register_tests(run_id, [("t", "")])[("t", "")]
    with _reporter(store, run_id) as (writer, rep):
        ref = rep.ref("t", "", test_id)
        rep.set_state_status(ref, "LAUNCHED", "n/a", "")
        rep.flush()
        rep.set_state_status(ref, "REMOTEHOSTSTART", "n/a", None)
        rep.set_values(ref, {"process_id": 4242})
        rep.set_state_status(ref, "RUNNING", None, None)
        # the test's own `-test-status` (or `runs kill`) lands before the runner's flush
        store.set_test_state_status(run_id, test_id, *theirs)
        rep.flush()
        rec = store.get_test(run_id, test_id)
        assert (rec.state, rec.status) == theirs
        assert rec.attemptnum == 4242  # the runner's plain columns are still written
        rep.set_state_status(ref, "COMPLETED", "PASS", None)  # the runner's verdict is not a start
        rep.flush()
    assert (store.get_test(run_id, test_id).state, store.get_test(run_id, test_id).status) == (
        "COMPLETED", "PASS")


def test_an_item_state_kept_by_the_guard_is_what_its_parent_rolls_up(store, tmp_path):
    run_id = store.get_or_create_run({"A": "x"}, "r")
    ids = store.register_tests(run_id, [("t", "1"), ("t", "2")])
    store.set_test_state_status(run_id, ids[("t", "2")], "COMPLETED", "PASS")
    with _reporter(store, run_id) as (writer, rep):
        one = rep.ref("t", "1", ids[("t", "1")])
        rep.set_state_status(one, "LAUNCHED", "n/a", "")
        rep.flush()
        rep.set_state_status(one, "RUNNING", "n/a", None)
        store.set_test_state_status(run_id, ids[("t", "1")], "COMPLETED", "FAIL")  # the test's own
        rep.flush()
    top = store.get_test_by_name(run_id, "t", "")
    assert (top.state, top.status) == ("COMPLETED", "FAIL")


def test_steps_of_one_flush_are_written_in_their_order(store, tmp_path):
    with _two_tests(store, tmp_path) as (run_id, _writer, rep, t, u):
        rep.step(t, "build", "start", "-", "", "")
        rep.set_state_status(u, "RUNNING", "n/a", None)
        rep.step(u, "build", "start", "-", "", "")
        rep.step(t, "build", "end", "1", "build.log", "first try")
        rep.step(t, "build", "end", "0", "build.log", "")  # the same step state again: it wins
        rep.flush()
    steps = {(s.stepname, s.state): (s.status, s.comment) for s in store.get_steps(run_id, t.test_id)}
    assert steps == {("build", "start"): ("-", ""), ("build", "end"): ("0", "")}
    assert [(s.stepname, s.state) for s in store.get_steps(run_id, u.test_id)] == [
        ("build", "start")]


def test_steps_reach_the_listeners_that_want_them_as_they_are_queued(store):
    run_id = store.get_or_create_run({"A": "x"}, "r")
    test_id = store.get_or_create_test(run_id, "t")
    heard = []

    class Steps(RunListener):
        def step_changed(self, change):
            heard.append((change.test.test_name, change.step, change.state, change.status))

    events = RunEvents()
    rep = StoreReporter(store, run_id, events)
    ref = rep.ref("t", "", test_id)
    rep.step(ref, "build", "start", "n/a", "", "")  # nobody listens to steps yet
    events.subscribe(Steps())
    rep.step(ref, "build", "end", "0", "build.log", "")
    assert heard == [("t", "build", "end", "0")]
    rep.flush()
    assert [(s.stepname, s.state) for s in store.get_steps(run_id, test_id)] == [
        ("build", "start"), ("build", "end")]
