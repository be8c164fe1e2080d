"""Whether a test or item that already has a row in this run is launched again (reference 1.12).

The original decides on the current state, then on the status:

* no row yet, NOT_STARTED, DELETED, INCOMPLETE        -> run
* COMPLETED, or a good status, and no `--rerun`       -> leave it (a COMPLETED/FAIL too)
* `--rerun S1,S2` and the current status is listed    -> run
* LAUNCHED / REMOTEHOSTSTART / RUNNING                -> already running, leave it
* anything else (KILLED, KILLREQ, STUCK, ARCHIVED...)   -> leave it

Deliberate difference: KILLED is rerun when its status (KILLED) is listed in `--rerun`, so
`--rerun KILLED` does what a user expects instead of needing the undocumented `-force`.
"""

from __future__ import annotations

from typing import NamedTuple

from megatest.engine.model import OK_STATUSES, RUNNING_STATES, Row

ALWAYS_RUN_STATES = frozenset({"NOT_STARTED", "DELETED", "INCOMPLETE"})
RERUNNABLE_STATES = frozenset({"COMPLETED", "KILLED"})

# What `--rerun-clean` resets to NOT_STARTED/n/a by default ([validvalues] cleanrerun-states
# and cleanrerun-statuses, reference 1.3).
CLEANRERUN_STATES = ("KILLREQ", "KILLED", "UNKNOWN", "INCOMPLETE", "STUCK", "NOT_STARTED")
CLEANRERUN_STATUSES = ("FAIL", "INCOMPLETE", "ABORT", "CHECK")


class RerunPolicy(NamedTuple):
    rerun_statuses: frozenset[str] = frozenset()
    force: bool = False

    @classmethod
    def from_option(cls, rerun: str | None, force: bool = False) -> RerunPolicy:
        statuses = frozenset(s.strip() for s in (rerun or "").split(",") if s.strip())
        return cls(statuses, force)

    def should_run(self, row: Row | None) -> bool:
        return self.decide(row)[0]

    def decide(self, row: Row | None) -> tuple[bool, str]:
        """(run?, why not) for a row of this run; None means the test has never been registered."""
        if row is None or self.force:
            return True, ""
        if row.state in ALWAYS_RUN_STATES:
            return True, ""
        if row.state in RUNNING_STATES:
            return False, f"already {row.state}"
        if row.state in RERUNNABLE_STATES or row.status in OK_STATUSES:
            if row.status in self.rerun_statuses:
                return True, ""
            return False, f"{row} kept (use --rerun {row.status} to run it again)"
        return False, f"{row} is not rerun"
