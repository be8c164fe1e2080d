"""What earlier runs of the area say about a test: waiver propagation, `[skip] rundelay`,
and how long it took (what a batch launcher bundles by)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from megatest.executor.reporter import TestRef
    from megatest.executor.waivers import PreviousRecord
    from megatest.store.interface import Store

# `[skip] rundelay` looks this many runs back for the test's last end
RUNDELAY_RUNS = 20
# durations are the longest of this many recent runs of the target
DURATION_RUNS = 3


class PastRuns:
    """Lookups in the other runs of the area, for one run."""

    def __init__(self, store: Store, run_id: int, target: str):
        self.store = store
        self.run_id = run_id
        self.target = target

    def previous(self, test: TestRef) -> PreviousRecord | None:
        """This test/item in the most recent other run of the same target (for waivers)."""
        from megatest.executor.waivers import PreviousRecord

        for run in self.store.find_runs(self.target, None, newest_first=True):
            if run.id == self.run_id:
                continue
            rec = self.store.get_test_by_name(run.id, test.test_name, test.item_path)
            if rec is not None:
                return PreviousRecord(rec.state, rec.status, rec.comment, rec.rundir)
        return None

    def last_completed(self, name: str) -> float | None:
        """When this test (`test[/item]`) last ended in any other run (epoch seconds)."""
        test, _, item = name.partition("/")
        latest = None
        for run in self.store.find_runs(newest_first=True, limit=RUNDELAY_RUNS):
            if run.id == self.run_id:
                continue
            rec = self.store.get_test_by_name(run.id, test, item)
            if rec is not None and rec.state in ("COMPLETED", "INCOMPLETE") and rec.event_time:
                end = rec.event_time + (rec.run_duration or 0)
                latest = end if latest is None else max(latest, end)
        return latest


class PastDurations:
    """How long each test and item took in the target's recent other runs: the longest of
    their COMPLETED ends (a killed or dead test's duration says nothing). Read once, on the
    first question, so that runs whose launcher never asks pay nothing."""

    def __init__(self, store: Store, run_id: int, target: str):
        self.store = store
        self.run_id = run_id
        self.target = target
        self._items: dict[tuple[str, str], float] | None = None
        self._tests: dict[str, float] = {}

    def seconds(self, test: TestRef) -> float | None:
        """The item's own duration; an item new to the area gets its test's longest."""
        if self._items is None:
            self._items = self._load()
        found = self._items.get((test.test_name, test.item_path))
        return found if found is not None else self._tests.get(test.test_name)

    def _load(self) -> dict[tuple[str, str], float]:
        items: dict[tuple[str, str], float] = {}
        runs = self.store.find_runs(self.target, None, newest_first=True,
                                    limit=DURATION_RUNS + 1)
        for run in [run for run in runs if run.id != self.run_id][:DURATION_RUNS]:
            for rec in self.store.iter_tests(run.id, states=("COMPLETED",)):
                if rec.run_duration is None:
                    continue
                key = (rec.testname, rec.item_path)
                seconds = float(rec.run_duration)
                items[key] = max(seconds, items.get(key, 0.0))
                self._tests[rec.testname] = max(seconds, self._tests.get(rec.testname, 0.0))
        return items
