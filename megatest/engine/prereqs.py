"""Is a job's prerequisite set met, still pending, or can it never be met? (reference 1.8, 1.9)

The original answers "not met" and lets the queue spin; a failed prerequisite then usually
ended as NOT_STARTED/KEEP_TRYING and, ten visits later, TEN_STRIKES. Here the answer is
decided as soon as it is knowable, so the user sees the real reason:

* PREQ_FAIL       a waiton (or, in itemwait mode, the matching waiton item) ended badly;
* PREQ_DISCARDED  a waiton did not run at all (it was itself blocked, had zero items, ...).

The comment written with the status names the waiton and what it ended in.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from megatest.engine.model import Row, TestPlan


class RunView(Protocol):
    """What prerequisite evaluation needs to know about the run."""

    def row(self, name: str, path: str) -> Row:
        """The row (the rolled-up top row when path is "" and the test is itemized)."""

    def has_item(self, name: str, path: str) -> bool:
        """Whether test `name` has an item with this path in this run."""

    def settled(self, name: str, path: str | None = None) -> bool:
        """True when the test (or that one item) will not change any more in this run."""


class Verdict(NamedTuple):
    met: bool = False
    blocked_status: str | None = None  # PREQ_FAIL / PREQ_DISCARDED when it can never be met
    reason: str = ""  # the waiton holding it back, for the display and the comment

    @property
    def blocked(self) -> bool:
        return self.blocked_status is not None


MET = Verdict(met=True)


def evaluate(plan: TestPlan, path: str, view: RunView) -> Verdict:
    """Decide for job (plan.name, path); path "" of an itemized test is its expansion gate."""
    waiting: Verdict | None = None
    for waiton in plan.waitons:
        verdict = _one_waiton(plan, path, waiton, view)
        if verdict.blocked:
            return verdict
        if not verdict.met and waiting is None:
            waiting = verdict
    return waiting or MET


def _one_waiton(plan: TestPlan, path: str, waiton: str, view: RunView) -> Verdict:
    top = view.row(waiton, "")
    if plan.toplevel:
        # toplevel: any completion of the waiton will do, even a failed one
        if top.state in ("COMPLETED", "INCOMPLETE", "KILLED"):
            return MET
        if view.settled(waiton):
            return Verdict(
                blocked_status="PREQ_DISCARDED",
                reason=f"waiton {waiton} did not complete ({top})",
            )
        return Verdict(reason=f"waiting for {waiton} ({top})")
    if top.ok:
        return MET
    name, row, item = waiton, top, None
    if plan.itemwait:
        mapped = plan.mapped_path(waiton, path)
        if path == "":
            # the waiting test's top row only gates item expansion: a running waiton is
            # enough to let the items appear and wait one by one (reference 1.8)
            if top.state == "RUNNING":
                return MET
        elif mapped and view.has_item(waiton, mapped):
            row, item = view.row(waiton, mapped), mapped
            if row.ok:
                return MET
            name = f"{waiton}/{mapped}"
    if row.state == "NOT_STARTED" and row.casualty:
        return Verdict(
            blocked_status="PREQ_DISCARDED",
            reason=f"waiton {name} did not run ({row}{_why(row)})",
        )
    if view.settled(waiton, item):
        if row.state == "NOT_STARTED":
            return Verdict(
                blocked_status="PREQ_DISCARDED", reason=f"waiton {name} did not run ({row})"
            )
        if not row.running:
            return Verdict(blocked_status="PREQ_FAIL", reason=f"waiton {name} ended {row}")
    return Verdict(reason=f"waiting for {name} ({row})")


def _why(row: Row) -> str:
    return f": {row.comment}" if row.comment else ""
