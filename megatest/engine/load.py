"""What other runs of the area have running, and the pace of launches (reference 1.6, 1.10).

Limits count every run of the area: the runner asks the store what the others run, at most
once per LOAD_REFRESH_INTERVAL. Runs whose runner is gone do not count (their running rows
are stale; their next runner cleans them).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from megatest.engine.model import RUNNING_STATES, Limits, Load

if TYPE_CHECKING:
    from megatest.store.interface import Store

LOAD_REFRESH_INTERVAL = 1.0  # seconds between reads of what other runs have running


class AreaLoad:
    """The load of the other runs as this run's limits count it, refreshed on its clock."""

    def __init__(self, store: Store, run_id: int, limits: Limits):
        self.store = store
        self.run_id = run_id
        self.limits = limits
        self.current = Load()
        self._read_at: float | None = None

    def at(self, now: float) -> Load:
        if self._read_at is not None and now - self._read_at < LOAD_REFRESH_INTERVAL:
            return self.current
        self._read_at = now
        self.current = self._read()
        return self.current

    def _read(self) -> Load:
        running = 0
        groups: dict[str, int] = {}
        names: set[str] = set()
        # jobgroups are counted only where a limit reads them, and each test's looked up once
        count_groups = bool(self.limits.jobgroups)
        jobgroup_of: dict[str, str | None] = {}
        for run in self.store.find_runs(state="RUNNING"):
            if run.id == self.run_id or not self.store.runner_alive(run.id):
                continue
            for rec in self.store.get_tests(run.id, states=list(RUNNING_STATES)):
                if rec.item_path == "" and rec.uname == "n/a":
                    continue  # an itemized test's top row or a row not yet on its host
                running += 1
                names.add(rec.fullname)
                if not count_groups:
                    continue
                if rec.testname not in jobgroup_of:
                    meta = self.store.get_test_meta(rec.testname) or {}
                    jobgroup_of[rec.testname] = meta.get("jobgroup")
                group = jobgroup_of[rec.testname]
                if group:
                    groups[group] = groups.get(group, 0) + 1
        return Load(running, groups, frozenset(names))


def over_maxload(maxload: float | None) -> bool:
    """`[jobtools] maxload`: the original waits while the 1-minute load exceeds maxload x
    cores (reference 1.6)."""
    if not maxload:
        return False
    try:
        return os.getloadavg()[0] > maxload * (os.cpu_count() or 1)
    except OSError:
        return False
