"""What every report shows of a test: its verdict in the terms CI tools use, read from the
store as a stream.

A report (JUnit, TeamCity, HTML, diff) lists the leaves of a run: plain tests and the items
of itemized tests. The top row of an itemized test is a roll-up of its items and is left
out, as the original's TeamCity wrapper did, so that a failing item counts once.

Verdicts follow the run's own exit code (megatest.engine.manage.outcome_code): PASS, WARN
and WAIVED pass, SKIP is skipped, everything else fails. Among the failures, FAIL and CHECK
are the test's own verdict (a `failure`); an abort, a kill, a dead or incomplete test is an
`error` (the harness could not finish it). A test that did not start because of a
prerequisite, a skip rule or an interrupted run is `skipped`, its reason given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from megatest.report import logs
from megatest.store.state import PASS_STATUSES

if TYPE_CHECKING:
    from megatest.store.interface import Store
    from megatest.store.records import RunRecord, StepRecord, TestRecord

PASSED, FAILURE, ERROR, SKIPPED, PENDING = "passed", "failure", "error", "skipped", "pending"

FAILURE_STATUSES = frozenset({"FAIL", "CHECK"})
# the test is not over yet: a live report leaves it out
IN_FLIGHT_STATES = frozenset({"LAUNCHED", "REMOTEHOSTSTART", "RUNNING", "KILLREQ"})
NEVER_RAN = "n/a"  # the status of a NOT_STARTED row still waiting its turn


def verdict(state: str, status: str) -> str:
    """PASSED, FAILURE, ERROR, SKIPPED, or PENDING (queued or running)."""
    if state in IN_FLIGHT_STATES:
        return PENDING
    if state == "NOT_STARTED":
        return PENDING if status == NEVER_RAN else SKIPPED
    if state == "COMPLETED":
        if status in PASS_STATUSES:
            return PASSED
        if status == "SKIP":
            return SKIPPED
        if status in FAILURE_STATUSES:
            return FAILURE
    return ERROR


def reason(test: TestRecord) -> str:
    """One line on why a test did not pass or did not run."""
    said = f"{test.state}/{test.status}"
    return f"{said}: {test.comment}" if test.comment else said


def leaves(tests: Iterable[TestRecord]) -> Iterator[TestRecord]:
    """`tests` (in the store's order: by test name, then item path) without the top rows of
    itemized tests. One row is held back at a time: any size of run streams through."""
    held: TestRecord | None = None
    for test in tests:
        if held is not None and not (test.item_path and test.testname == held.testname):
            yield held
        held = test if test.item_path == "" else None
        if test.item_path:
            yield test
    if held is not None:
        yield held


def failing_step(steps: list[StepRecord]) -> StepRecord | None:
    """The step that failed the test: the last step that ended with a bad status."""
    ok = {"0", "PASS", "WARN", "WAIVED", "SKIP", "-", ""}
    bad = [s for s in steps if s.state == "end" and s.status not in ok]
    return bad[-1] if bad else None


@dataclass(frozen=True)
class RunTests:
    """One run and a stream of its leaf tests."""

    run: RunRecord
    tests: Iterator[TestRecord]


def run_leaves(store: Store, runs: Iterable[RunRecord],
               testpatt: str | None = None) -> Iterator[RunTests]:
    """Each run with its leaf tests, read a page at a time (the query `query tests` uses)."""
    for run in runs:
        yield RunTests(run, leaves(store.iter_tests(run.id, testpatt or "%")))


def failure(store: Store, test: TestRecord, limit: int = logs.TAIL_BYTES) -> tuple[str | None, str]:
    """Why a test failed, for a report: the failing step's summary (None when no step
    failed) and the details, that summary then the last `limit` bytes of the log that
    says most (the step's own, else the test's final log), headed by its path."""
    step = failing_step(store.get_steps(test.run_id, test.id))
    said = None
    if step is not None:
        said = f"step {step.stepname} ended {step.status}"
        if step.comment:
            said += f": {step.comment}"
    log = logs.step_log(test, step) if step is not None else logs.final_log(test)
    shown = f"--- {log} (last lines) ---\n" + logs.tail(log, limit) if log else ""
    return said, "\n".join(part for part in (said, shown) if part)
