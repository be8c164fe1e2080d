"""What earlier runs of the area say about a test: waiver propagation and `[skip] rundelay`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from megatest.executor.reporter import TestRef
    from megatest.executor.waivers import PreviousRecord
    from megatest.store.interface import Store

# `[skip] rundelay` looks this many runs back for the test's last end
RUNDELAY_RUNS = 20


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
