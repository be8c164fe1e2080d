"""What earlier runs say about a test: durations for a batch launcher's bundles."""

from __future__ import annotations

import pytest

from megatest.engine.history import DURATION_RUNS, PastDurations
from megatest.executor.reporter import TestRef
from megatest.store import open_store

TARGET = {"SYSTEM": "ubuntu", "RELEASE": "v1"}
OTHER = {"SYSTEM": "sles", "RELEASE": "v1"}


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path, fields=["SYSTEM", "RELEASE"])
    yield s
    s.close()


def ended(store, keyvals, runname, tests, state="COMPLETED"):
    """A run whose tests (name, item) -> seconds ended as `state`."""
    run_id = store.get_or_create_run(keyvals, runname)
    for (name, item), seconds in tests.items():
        test_id = store.get_or_create_test(run_id, name, item)
        store.update_test_fields(run_id, test_id, run_duration=seconds)
        store.set_test_state_status(run_id, test_id, state, "PASS")
    return run_id


def test_an_item_gets_its_longest_recent_duration_and_a_new_item_its_tests(store):
    ended(store, TARGET, "r1", {("sim", "1"): 2.5, ("sim", "2"): 9.0, ("lint", ""): 1.0})
    ended(store, TARGET, "r2", {("sim", "1"): 4.0})
    ended(store, OTHER, "o1", {("sim", "1"): 500.0})  # another target's machine: not this one
    now = store.get_or_create_run(TARGET, "r3")
    past = PastDurations(store, now, "ubuntu/v1")
    assert past.seconds(TestRef("sim", "1")) == 4.0
    assert past.seconds(TestRef("sim", "7")) == 9.0
    assert past.seconds(TestRef("lint")) == 1.0
    assert past.seconds(TestRef("new")) is None


def test_only_completed_tests_of_the_last_few_runs_count(store):
    ended(store, TARGET, "old", {("sim", ""): 100.0})
    for n in range(DURATION_RUNS - 1):
        ended(store, TARGET, f"r{n}", {("sim", ""): 2.0})
    ended(store, TARGET, "killed", {("sim", ""): 300.0}, state="KILLED")
    now = store.get_or_create_run(TARGET, "now")
    assert PastDurations(store, now, "ubuntu/v1").seconds(TestRef("sim")) == 2.0


def test_a_first_run_has_no_history(store):
    now = store.get_or_create_run(TARGET, "first")
    assert PastDurations(store, now, "ubuntu/v1").seconds(TestRef("sim")) is None
