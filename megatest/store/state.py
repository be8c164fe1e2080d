"""The state/status model: vocabularies and ranks, exit-code maps, and every rollup rule.

Pure functions on plain values, no database and no heavy import: the store and the stdlib
writer under it (megatest.store.testwrite, also used by the per-test helpers) call these, so
the rules exist once. Reference: megatest-db-state-server.md 2.1-2.6, 3.1-3.5. The deliberate
differences from the original are listed in docs/decisions.md under "## Store".
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import NamedTuple

# Rank tables of common.scm (*common:std-states*, *common:std-statuses*). Anything else ranks 0.
STATE_RANKS: dict[str, int] = {
    "ARCHIVED": 0, "STUCK": 1, "KILLREQ": 2, "KILLED": 3, "NOT_STARTED": 4,
    "COMPLETED": 5, "LAUNCHED": 6, "REMOTEHOSTSTART": 7, "RUNNING": 8,
}
STATUS_RANKS: dict[str, int] = {
    "n/a": 1, "PASS": 2, "SKIP": 3, "WARN": 4, "WAIVED": 5, "CHECK": 6, "STUCK/DEAD": 7,
    "FAIL": 8, "ABORT": 9,
}

# Values the original writes or recognises without ranking them.
OTHER_STATES = (
    "INCOMPLETE", "DELETED", "REMOVING", "CLEANING", "ARCHIVE_REMOVING", "FAILEDKILL", "UNKNOWN",
)
OTHER_STATUSES = (
    "AUTO", "AUTO-WARN", "DEAD", "KILLED", "FAILED TO KILL", "LOCKED", "PREQ_FAIL",
    "PREQ_DISCARDED", "BLOCKED", "KEEP_TRYING", "TEN_STRIKES", "TIMED_OUT", "ZERO_ITEMS",
    "DELETED", "LAUNCHED",
)
KNOWN_STATES = (*STATE_RANKS, *OTHER_STATES)
KNOWN_STATUSES = (*STATUS_RANKS, *OTHER_STATUSES)

ENDED_STATES = frozenset({"COMPLETED", "ARCHIVED", "KILLED", "KILLREQ", "STUCK", "INCOMPLETE"})
BADLY_ENDED_STATES = frozenset({"KILLED", "KILLREQ", "STUCK", "INCOMPLETE", "DEAD"})
RUNNING_STATES = frozenset({"RUNNING", "REMOTEHOSTSTART", "LAUNCHED"})
CANT_RUN_STATES = frozenset({"COMPLETED", "KILLED", "UNKNOWN", "INCOMPLETE", "ARCHIVED"})
NOT_STARTED_OK_STATUSES = frozenset(
    {"n/a", "na", "PASS", "FAIL", "WARN", "CHECK", "WAIVED", "DEAD", "SKIP"}
)
# States whose write stamps tests.event_time := now (the start of the heartbeat clock).
START_TIME_STATES = frozenset({"LAUNCHED", "REMOTEHOSTSTART"})

# update-pass-fail-counts of the original: which statuses count as a pass or a fail.
PASS_STATUSES = frozenset({"PASS", "WARN", "WAIVED"})
FAIL_STATUSES = frozenset({"FAIL", "CHECK", "INCOMPLETE", "ABORT"})

DEFAULT_DEADTIME = 7200          # [setup] deadtime default, seconds
LAUNCHED_DEADTIME = 86400        # a LAUNCHED test older than this is dead (queue stuck)
DEAD_COMMENT = "Test failed to complete"


def state_rank(state: str | None) -> int:
    return STATE_RANKS.get(state, 0) if state is not None else 0


def status_rank(status: str | None) -> int:
    return STATUS_RANKS.get(status, 0) if status is not None else 0


def by_rank(values: Iterable[str | None], ranks: dict[str, int]) -> list[str | None]:
    """De-duplicate (first occurrence wins) and sort highest rank first; equal ranks keep their
    input order (the original's merge sort is stable)."""
    seen: list[str | None] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return sorted(seen, key=lambda v: -(ranks.get(v, 0) if v is not None else 0))


# --------------------------------------------------------------------------- exit codes
# launch:execute rollup-status numbers -> final test status (reference 2.3 table 2, 2.7).
EXIT_CODE_STATUS: dict[int, str] = {
    0: "PASS", 1: "FAIL", 2: "WARN", 3: "CHECK", 4: "WAIVED", 5: "ABORT", 6: "SKIP",
}


def status_from_exit_code(code: int | None, current_status: str | None = None) -> str:
    """Final status of a test from its exit / rollup code. None = killed by a signal -> FAIL.
    AUTO stays AUTO on 0 and becomes AUTO-WARN on 2."""
    if code is None:
        return "FAIL"
    if current_status == "AUTO" and code == 0:
        return "AUTO"
    if current_status == "AUTO" and code == 2:
        return "AUTO-WARN"
    return EXIT_CODE_STATUS.get(code, "FAIL")


def step_status_from_exit_code(code: int, logpro: bool) -> str:
    """A step's verdict: with a logpro file every code of the table counts, without one only
    0 is a pass."""
    if not logpro:
        return "PASS" if code == 0 else "FAIL"
    return EXIT_CODE_STATUS.get(code, "FAIL")


def status_from_helper_arg(value: str) -> str:
    """`-test-status :status N`: a number maps 0 -> PASS, anything else -> FAIL; text is kept."""
    try:
        return "PASS" if int(value.strip()) == 0 else "FAIL"
    except ValueError:
        return value


# --------------------------------------------------------------------------- item rollup
class Rollup(NamedTuple):
    """The state/status a parent (or a run) gets; None = leave that column as it is."""

    state: str | None
    status: str | None


def _combine(
    considered: Sequence[tuple[str | None, str | None]],
    others: Sequence[tuple[str | None, str | None]],
) -> Rollup:
    """reference 3.1 step 5: `others` decide the RUNNING / bad-NOT_STARTED overrides, every
    considered value takes part in the rank ordering."""
    running = any(s in RUNNING_STATES for s, _ in others)
    bad_not_started = any(
        s == "NOT_STARTED" and st not in NOT_STARTED_OK_STATUSES for s, st in others
    )
    states = by_rank((s for s, _ in considered), STATE_RANKS)
    statuses = by_rank((st for _, st in considered), STATUS_RANKS)
    non_completes = [s for s in states if s != "COMPLETED"]
    if running:
        state = "RUNNING"
    elif bad_not_started:
        state = "COMPLETED"
    elif non_completes:
        state = non_completes[0]
    else:
        state = states[0] if states else None
    if bad_not_started or state == "NOT_STARTED":
        status = "CHECK"
    else:
        status = statuses[0] if statuses else None
    return Rollup(state, status)


def item_rollup(
    item_state: str | None,
    item_status: str | None,
    siblings: Iterable[tuple[str | None, str | None]],
) -> Rollup:
    """The parent's new state/status after one item is written (reference 3.1).

    `item_state`/`item_status` are the item's values after the write; `siblings` are the
    (state, status) of the parent's *other* items, DELETED ones already left out (a decision:
    the original let a DELETED sibling become the parent's state), in a stable order.
    """
    others = [(s, st) for s, st in siblings]
    return _combine([(item_state, item_status), *others], others)


# --------------------------------------------------------------------------- test data
COMPARATORS = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def test_data_status(
    value: object, expected: object, tol: object, status: str | None = None
) -> str | None:
    """Status of one test_data row (reference 5.4): a given status (other than n/a) wins;
    otherwise, when value and expected are numbers, 'pass'/'fail' from tol (a number = allowed
    difference, or one of > < >= <=). A tol that is neither gives the original's
    'ERROR: bad tol comparator ...'; no tol at all means no verdict (the status stays)."""
    if status not in (None, "", "n/a"):
        return status
    v, e = _number(value), _number(expected)
    if v is None or e is None or tol in (None, ""):
        return status
    t = _number(tol)
    if t is not None:
        # the band expected-tol .. expected+tol, as the original computes it: 1.2 against
        # 1.3 +/- 0.1 passes (1.3 - 0.1 == 1.2), where |1.2 - 1.3| <= 0.1 would not
        return "pass" if e - t <= v <= e + t else "fail"
    op = COMPARATORS.get(str(tol).strip())
    if op is None:
        return f"ERROR: bad tol comparator {tol}"
    return "pass" if op(v, e) else "fail"


def test_data_rollup(current_status: str | None, pass_count: int, fail_count: int) -> str | None:
    """Test status after its test_data counts are refreshed (reference 3.4)."""
    if fail_count > 0:
        return "FAIL"
    if pass_count > 0 and current_status not in ("WARN", "FAIL"):
        return "PASS"
    return current_status


# --------------------------------------------------------------------------- dead tests
def is_never_run_row(uname: str | None, item_path: str | None) -> bool:
    """A never-run top-level row (or an itemized test's parent): uname 'n/a', item_path ''."""
    return uname == "n/a" and (item_path or "") == ""


def is_dead(
    state: str | None,
    event_time: int | None,
    run_duration: int | None,
    now: float,
    deadtime: int = DEFAULT_DEADTIME,
) -> bool:
    """Reference 2.6: RUNNING/REMOTEHOSTSTART with no heartbeat for `deadtime` seconds
    (event_time + run_duration is the last heartbeat), or LAUNCHED for more than a day."""
    started = event_time or 0
    if state in ("RUNNING", "REMOTEHOSTSTART"):
        return now - started > (run_duration or 0) + deadtime
    if state == "LAUNCHED":
        return now - started > LAUNCHED_DEADTIME
    return False


# --------------------------------------------------------------------------- run rollup
# (NamedTuples, not dataclasses: a test's node process imports this module, and the
# dataclasses module costs it about 10 ms)
class RunRollup(NamedTuple):
    state: str | None
    status: str | None
    end_time: int | None
    pass_count: int
    fail_count: int


class TestSummary(NamedTuple):
    """What the run rollup needs of one top-level test row."""

    __test__ = False  # not a pytest class

    state: str | None
    status: str | None
    event_time: int | None = None
    run_duration: int | None = None


def run_rollup(tests: Sequence[TestSummary]) -> RunRollup | None:
    """A run's state, status, end_time and pass/fail counts from its top-level tests
    (reference 3.5 proposal). DELETED tests are ignored; None when nothing is left.

    Every top-level test is an "item" of the run: RUNNING if any test runs, COMPLETED/CHECK if
    one was dropped by the scheduler, else the highest non-COMPLETED state, else COMPLETED;
    the status is the highest ranked one (CHECK when the run state is NOT_STARTED, as for
    items). end_time = max(event_time + run_duration) once the state is an ended state.
    """
    live = [t for t in tests if t.state != "DELETED"]
    if not live:
        return None
    pairs = [(t.state, t.status) for t in live]
    verdict = _combine(pairs, pairs)
    end_time = None
    if verdict.state in ENDED_STATES:
        end_time = max((t.event_time or 0) + (t.run_duration or 0) for t in live)
    passes = sum(1 for t in live if t.status in PASS_STATUSES)
    fails = sum(1 for t in live if t.status in FAIL_STATUSES)
    return RunRollup(verdict.state, verdict.status, end_time, passes, fails)
