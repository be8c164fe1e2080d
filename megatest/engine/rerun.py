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

from collections.abc import Iterable
from typing import NamedTuple

from megatest.engine.model import OK_STATUSES, RUNNING_STATES, Row
from megatest.errors import UsageError
from megatest.store.state import KNOWN_STATUSES

ALWAYS_RUN_STATES = frozenset({"NOT_STARTED", "DELETED", "INCOMPLETE"})
RERUNNABLE_STATES = frozenset({"COMPLETED", "KILLED"})

# What `--rerun-clean` resets to NOT_STARTED/n/a by default ([validvalues] cleanrerun-states
# and cleanrerun-statuses, reference 1.3).
CLEANRERUN_STATES = ("KILLREQ", "KILLED", "UNKNOWN", "INCOMPLETE", "STUCK", "NOT_STARTED")
CLEANRERUN_STATUSES = ("FAIL", "INCOMPLETE", "ABORT", "CHECK")


def rerun_statuses(rerun: str | None) -> frozenset[str]:
    """The statuses of a `--rerun S1,S2` list (blanks around the commas ignored)."""
    return frozenset(s.strip() for s in (rerun or "").split(",") if s.strip())


def unknown_rerun_statuses(rerun: str | None, declared: Iterable[str] = ()) -> list[str]:
    """The `--rerun` values that are neither a status of the original nor `declared` by the
    area (`[validvalues] status`), in the order given."""
    known = {*KNOWN_STATUSES, *declared}
    seen = [s.strip() for s in (rerun or "").split(",") if s.strip()]
    return [s for s in dict.fromkeys(seen) if s not in known]


def check_rerun(rerun: str | None, declared: Iterable[str] = ()) -> None:
    """UsageError when `--rerun` lists a value that is not a test status: it would match no
    test, and the run would quietly rerun nothing."""
    if rerun is not None and not rerun_statuses(rerun):
        raise UsageError("--rerun needs a comma list of test statuses, e.g. FAIL,ABORT")
    declared = list(declared)
    bad = unknown_rerun_statuses(rerun, declared)
    if bad:
        known = ", ".join(dict.fromkeys([*KNOWN_STATUSES, *declared]))
        raise UsageError(
            f"--rerun {','.join(bad)}: not a test status (--rerun takes statuses, not "
            f"states); known statuses: {known} (an area adds more with [validvalues] status)"
        )


class RerunPolicy(NamedTuple):
    rerun_statuses: frozenset[str] = frozenset()
    force: bool = False

    @classmethod
    def from_option(cls, rerun: str | None, force: bool = False) -> RerunPolicy:
        return cls(rerun_statuses(rerun), force)

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
