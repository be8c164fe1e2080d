"""What the scheduler works on: selected tests (plans), their concrete jobs and row states.

Everything here is plain data so the scheduler can be exercised without processes or a
database: the driver fills these from the config and the store, and feeds state changes back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from megatest.config.items import Item

# Statuses that satisfy a `normal`/`itemwait` waiton (reference 1.8; WARN and SKIP included,
# as the original's code does, although its manual lists only PASS, CHECK and WAIVED).
OK_STATUSES = frozenset({"PASS", "WARN", "CHECK", "WAIVED", "SKIP"})
RUNNING_STATES = frozenset({"LAUNCHED", "REMOTEHOSTSTART", "RUNNING"})
# States after which a row will not change again unless someone reruns it.
ENDED_STATES = frozenset({"COMPLETED", "INCOMPLETE", "KILLED", "ARCHIVED", "STUCK", "DELETED"})
# The NOT_STARTED status of a test whose testconfig cannot be read (the original stopped the
# whole run instead): the comment holds the reader's `file:line: message`.
CONFIG_ERROR = "CONFIG_ERROR"
# NOT_STARTED statuses the scheduler writes when it gives up on a test (reference 1.9).
CASUALTY_STATUSES = frozenset(
    {"PREQ_FAIL", "PREQ_DISCARDED", "BLOCKED", "TEN_STRIKES", "TIMED_OUT", "ZERO_ITEMS", "KILLED",
     CONFIG_ERROR}
)
# Modes of `[requirements] mode`.
MODES = frozenset({"normal", "toplevel", "itemwait", "itemmatch", "exclusive"})

Key = tuple[str, str]  # (test name, item path); item path "" is the test's top row


def full_name(key: Key) -> str:
    name, path = key
    return f"{name}/{path}" if path else name


ItemSource = Sequence[Item] | Callable[[], Sequence[Item]] | None


@dataclass
class TestPlan:
    """One selected test as the scheduler needs it.

    `items` is None for a plain test, a sequence for static items, or a callable evaluated
    once the test's prerequisites allow it (items needing a shell call, reference 1.7).
    `item_wanted` filters item paths by the test pattern. `itemmap(waiton, path)` maps this
    test's item path onto the waiton's ([itemmap] / [requirements] itemmap, reference 1.8).
    `payload` is whatever the driver needs to launch it (the test config); never looked at here.
    `config_error` is why its testconfig could not be read: such a test is never queued, its
    row says why (NOT_STARTED/CONFIG_ERROR) and its dependants follow the PREQ rules.
    """

    __test__ = False  # not a pytest class

    name: str
    waitons: tuple[str, ...] = ()
    modes: frozenset[str] = frozenset({"normal"})
    priority: int = 0
    jobgroup: str | None = None
    items: ItemSource = None
    item_wanted: Callable[[str], bool] = field(default=lambda path: True)
    itemmap: Callable[[str, str], str] | None = None
    payload: object = None
    config_error: str | None = None

    @property
    def itemwait(self) -> bool:
        return bool(self.modes & {"itemwait", "itemmatch"})

    @property
    def toplevel(self) -> bool:
        return "toplevel" in self.modes and "exclusive" not in self.modes

    @property
    def exclusive(self) -> bool:
        return "exclusive" in self.modes

    def mapped_path(self, waiton: str, path: str) -> str:
        return self.itemmap(waiton, path) if self.itemmap else path


@dataclass
class Row:
    """The state of one test row as this runner knows it."""

    state: str = "NOT_STARTED"
    status: str = "n/a"
    comment: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "COMPLETED" and self.status in OK_STATUSES

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def casualty(self) -> bool:
        """A test the scheduler gave up on: it did not run and will not in this run."""
        return self.state == "NOT_STARTED" and self.status in CASUALTY_STATUSES

    def __str__(self) -> str:
        return f"{self.state}/{self.status}"


@dataclass(frozen=True)
class Limits:
    """Concurrency limits of the area (reference 1.10)."""

    max_concurrent_jobs: int = 1
    jobgroups: dict[str, int] = field(default_factory=dict)
    launch_delay: float = 0.0


@dataclass(frozen=True)
class Load:
    """What is running *outside* this runner (other runs of the area), from the store."""

    running: int = 0
    by_jobgroup: dict[str, int] = field(default_factory=dict)
    names: frozenset[str] = frozenset()  # full names running elsewhere, for `exclusive`


class Blocked(NamedTuple):
    """A job the scheduler gave up on: the status written (state NOT_STARTED) and why."""

    key: Key
    status: str
    comment: str
