"""TestWriter.batch: many writes in one transaction, rules kept, nothing of others lost."""

import os
import re
import select
import subprocess
import sys
import textwrap
import time

import pytest

from megatest.errors import StoreError, UsageError
from megatest.store.testwrite import TestWriter


@pytest.fixture
def writer(store, run_id):
    with TestWriter(store.area_root, run_id) as w:
        yield w


def _state(store, run_id, name, item=""):
    t = store.get_test_by_name(run_id, name, item)
    return (t.state, t.status)


def test_batch_writes_everything_in_one_commit(store, run_id, writer):
    ids = store.register_tests(run_id, [("t", "1"), ("t", "2")])
    one = ids[("t", "1")]
    with writer.batch():
        writer.set_state_status(one, "RUNNING", "n/a")
        writer.add_step(one, "build", "start", "-")
        writer.update_fields(one, host="h1", pid=77, run_duration=3)
        assert writer.conn.in_transaction
        assert _state(store, run_id, "t", "1") == ("NOT_STARTED", "n/a")  # not visible yet
    assert not writer.conn.in_transaction
    rec = store.get_test(run_id, one)
    assert (rec.state, rec.host, rec.attemptnum, rec.run_duration) == ("RUNNING", "h1", 77, 3)
    assert [s.stepname for s in store.get_steps(run_id, one)] == ["build"]
    assert _state(store, run_id, "t", "2") == ("NOT_STARTED", "n/a")


ROLLUP_SCRIPT = [
    [("0", "COMPLETED", "PASS"), ("1", "COMPLETED", "PASS"), ("2", "COMPLETED", "PASS"),
     ("1", None, "FAIL")],
    [("1", "RUNNING", "n/a"), ("2", "COMPLETED", "PASS")],
    [("0", "KILLED", "KILLED"), ("1", "DELETED", "n/a"), ("2", None, "WARN")],
]


def test_item_rollup_inside_a_batch_sees_the_batch_own_writes(store, run_id, writer):
    # the same changes, one transaction each through the Store, are the oracle
    oracle_run = store.get_or_create_run({"SYSTEM": "ubuntu", "RELEASE": "v2"}, "oracle")
    ids = store.register_tests(run_id, [("t", str(i)) for i in range(3)])
    oracle_ids = store.register_tests(oracle_run, [("t", str(i)) for i in range(3)])
    for turn in ROLLUP_SCRIPT:
        with writer.batch():
            batched = [writer.set_state_status(ids[("t", i)], st, stt) for i, st, stt in turn]
        single = [store.set_test_state_status(oracle_run, oracle_ids[("t", i)], st, stt)
                  for i, st, stt in turn]
        assert batched == single
        assert _state(store, run_id, "t") == _state(store, oracle_run, "t")
    assert _state(store, run_id, "t") == ("KILLED", "WARN")  # the rules, not a default


def test_an_error_leaving_the_batch_rolls_all_of_it_back(store, run_id, writer):
    test_id = store.register_tests(run_id, [("t", "")])[("t", "")]
    with pytest.raises(StoreError, match="99999"):
        with writer.batch():
            writer.set_state_status(test_id, "RUNNING", "n/a")
            writer.add_step(test_id, "s", "start", "-")
            writer.set_state_status(99999, "RUNNING", "n/a")
    assert not writer.conn.in_transaction
    assert _state(store, run_id, "t") == ("NOT_STARTED", "n/a")
    assert store.get_steps(run_id, test_id) == []
    writer.set_state_status(test_id, "RUNNING", "n/a")  # the writer is usable afterwards
    assert _state(store, run_id, "t") == ("RUNNING", "n/a")


def test_a_failed_call_caught_inside_the_batch_leaves_nothing_of_itself(store, run_id, writer):
    test_id = store.register_tests(run_id, [("t", "")])[("t", "")]
    with writer.batch():
        writer.set_state_status(test_id, "RUNNING", "n/a")
        with pytest.raises(UsageError, match="state"):
            writer.update_fields(test_id, host="h", state="COMPLETED")
        with pytest.raises(StoreError):
            writer.heartbeat(424242)
        with pytest.raises(ValueError):
            with writer.batch():  # a nested batch is a savepoint of the outer one
                writer.add_step(test_id, "inner", "start", "-")
                raise ValueError("inner block fails")
        writer.add_step(test_id, "outer", "start", "-")
    rec = store.get_test(run_id, test_id)
    assert (rec.state, rec.host) == ("RUNNING", "n/a")
    assert [s.stepname for s in store.get_steps(run_id, test_id)] == ["outer"]


def test_an_apply_that_fails_inside_its_own_block_leaves_nothing_of_it(store, run_id, writer):
    # the server writes each client's batch as apply() in a nested block of one transaction:
    # a bad write undoes that batch's earlier writes, not the other batches'
    from megatest.store.writes import DataWrite, StateWrite, StepWrite

    test_id = store.register_tests(run_id, [("t", "")])[("t", "")]
    with writer.batch():
        with pytest.raises(StoreError, match="99999"), writer.batch():
            writer.apply([StateWrite(test_id, "RUNNING", "WARN", "first"),
                          StepWrite(test_id, "s", "start", "-"),
                          DataWrite(test_id, [{"variable": "v", "value": "1"}]),
                          StateWrite(99999, "RUNNING", "n/a", None)])
        writer.apply([StateWrite(test_id, "COMPLETED", "PASS", None)])
    rec = store.get_test(run_id, test_id)
    assert (rec.state, rec.status, rec.comment) == ("COMPLETED", "PASS", "")
    assert store.get_steps(run_id, test_id) == []
    assert store.get_test_data(run_id, test_id) == []


HELPER = textwrap.dedent("""
    import sys
    from megatest.store.testwrite import TestWriter
    with TestWriter(sys.argv[1], int(sys.argv[2])) as w:
        # every statement, as it starts: the test sees when the helper asks for the write lock
        w.conn.set_trace_callback(lambda sql: print("sql:", " ".join(sql.split()), flush=True))
        w.set_state_status(int(sys.argv[3]), "COMPLETED", "PASS", "from the helper")
        w.add_step(int(sys.argv[3]), "helper", "end", "0")
    """)
# the statements that take the write lock (BEGIN IMMEDIATE, or the first write of a deferred one)
WRITE_LOCK = re.compile(r"sql: (BEGIN IMMEDIATE|BEGIN EXCLUSIVE|INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
SAFETY = 30.0  # seconds: only turns a hang into a failure


def _wait_for_line(proc: subprocess.Popen, pattern: re.Pattern) -> str:
    """The first line of proc's stdout matching `pattern` (the helper blocks on the lock
    right after printing it, so the wait is bounded by SAFETY rather than by its end)."""
    give_up = time.monotonic() + SAFETY
    seen, buf = [], b""
    fd = proc.stdout.fileno()
    while True:
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode()
            if pattern.match(line):
                return line
            seen.append(line)
        remaining = give_up - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
        if not ready:
            raise AssertionError(f"helper never asked for the write lock in {SAFETY:.0f} s: {seen}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise AssertionError(f"helper ended without asking for the write lock: {seen}")
        buf += chunk


def test_a_helper_writing_during_a_batch_waits_and_is_not_lost(store, run_id, writer):
    ids = store.register_tests(run_id, [("t", "a"), ("t", "b")])
    with writer.batch():
        writer.set_state_status(ids[("t", "a")], "RUNNING", "n/a")
        helper = subprocess.Popen(
            [sys.executable, "-c", HELPER, str(store.area_root), str(run_id), str(ids[("t", "b")])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _wait_for_line(helper, WRITE_LOCK)
            # the helper now asks for the lock the batch holds: it cannot have written anything
            assert helper.poll() is None
            assert _state(store, run_id, "t", "b") == ("NOT_STARTED", "n/a")
            writer.set_state_status(ids[("t", "a")], "COMPLETED", "FAIL")
        except BaseException:
            helper.kill()
            helper.wait()
            raise
    _, err = helper.communicate(timeout=60)
    assert helper.returncode == 0, err.decode()
    assert _state(store, run_id, "t", "a") == ("COMPLETED", "FAIL")
    b = store.get_test(run_id, ids[("t", "b")])
    assert (b.state, b.status, b.comment) == ("COMPLETED", "PASS", "from the helper")
    assert [s.stepname for s in store.get_steps(run_id, b.id)] == ["helper"]
    # the helper's rollup came after the batch's write, so the parent counts both items
    assert _state(store, run_id, "t") == ("COMPLETED", "FAIL")


def test_update_fields_refuses_unknown_columns_and_stores_pid_as_attemptnum(store, run_id, writer):
    test_id = store.register_tests(run_id, [("t", "")])[("t", "")]
    with pytest.raises(UsageError, match="id, testname"):
        writer.update_fields(test_id, testname="x", id=5)
    writer.update_fields(test_id, pid=4242, rundir="/r", final_logf="x.html")
    writer.update_fields(test_id)  # nothing to set: no write
    rec = store.get_test(run_id, test_id)
    assert (rec.attemptnum, rec.rundir, rec.final_logf) == (4242, "/r", "x.html")
