"""The run queue as pure logic: which jobs may launch now, which wait, which can never run.

The original's queue (reference 1.6) rotates over a list, polling the database and sleeping
between visits. This one is driven by events instead: the driver reports every state change
(`update`), then asks `decide()` what to do. Only the dependants of a test whose rows changed
are re-examined, so a cycle costs little however big the run is.

Semantics kept from the original: prerequisites per mode (prereqs.py), limits counted over
every run of the area (own running jobs + `Load` from the store), `jobgroup` limits, items
expanded statically at once and deferred items only once the parent's prerequisites allow it,
priority ordering (higher first). Differences, on purpose: a job whose prerequisites can never
be met is blocked at once with a reason (no KEEP_TRYING/TEN_STRIKES), and a queue left with
nothing running and nothing launchable (a waiton cycle) ends with every remaining job BLOCKED
instead of spinning forever, and a test whose testconfig cannot be read (or whose deferred
items fail to read) is NOT_STARTED/CONFIG_ERROR with the reader's message, not the end of
the run.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from megatest.engine import prereqs
from megatest.engine.model import (
    CONFIG_ERROR,
    Blocked,
    Item,
    Key,
    Limits,
    Load,
    Row,
    TestPlan,
    full_name,
)
from megatest.errors import ConfigError

Rollup = Callable[[Sequence[Row]], Row]


def rollup_items(rows: Sequence[Row]) -> Row:
    """The top row of an itemized test as the store computes it, over all its items at once."""
    from megatest.store.state import TestSummary, run_rollup

    verdict = run_rollup([TestSummary(r.state, r.status) for r in rows])
    if verdict is None:
        return Row()
    return Row(verdict.state or "NOT_STARTED", verdict.status or "n/a")

_NO_ROW = Row()
_DEFAULT_LIMITS = Limits()
_NO_LOAD = Load()


@dataclass
class Launch:
    key: Key
    plan: TestPlan
    item: Item | None


@dataclass
class Decision:
    """What the driver has to do after one `decide()`."""

    register: list[tuple[Key, Item | None]] = field(default_factory=list)
    launch: list[Launch] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.register or self.launch or self.blocked)


class Scheduler:
    """Queue state of one run. Rows given are the run's existing rows (from the store)."""

    def __init__(
        self,
        plans: Sequence[TestPlan],
        rows: Mapping[Key, Row],
        *,
        should_run: Callable[[Key, Row | None], bool],
        rollup: Rollup = rollup_items,
        limits: Limits = _DEFAULT_LIMITS,
    ) -> None:
        self.plans = {p.name: p for p in plans}
        self.limits = limits
        self._rollup = rollup
        self._should_run = should_run
        self.rows: dict[Key, Row] = dict(rows)
        self._items: dict[str, dict[str, Item]] = {}  # test -> path -> item, itemized tests
        self._rank: dict[str, int] = {}
        order = sorted(enumerate(plans), key=lambda ip: (-ip[1].priority, ip[0]))
        for rank, (_, plan) in enumerate(order):
            self._rank[plan.name] = rank
        self._seq = 0
        self._waiting: dict[Key, TestPlan] = {}  # prerequisites not met yet
        self._waiting_by_name: dict[str, dict[Key, None]] = defaultdict(dict)  # in item order
        self._item_rows: dict[str, set[str]] = defaultdict(set)  # every item row of a test
        # how many items of a test are in each (state, status), and the pair each item is
        # counted under: a parent's rollup reads the few pairs, not every item (O(n) per
        # change of an item whose test has dependants would make a big run O(n^2))
        self._pairs: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        self._counted: dict[Key, tuple[str, str]] = {}
        for key in self.rows:
            if key[1]:
                self._item_rows[key[0]].add(key[1])
                self._count(key)
        self._first = True
        self._gates: dict[str, TestPlan] = {}  # deferred items waiting to be expanded
        self._ready: list[tuple[int, int, Key]] = []  # heap: launchable once limits allow
        self._ready_keys: set[Key] = set()
        self.running: dict[Key, TestPlan] = {}
        self._active: dict[str, int] = defaultdict(int)  # jobs of a test not yet finished
        self._dependants: dict[str, set[str]] = defaultdict(set)
        for plan in plans:
            for waiton in plan.waitons:
                self._dependants[waiton].add(plan.name)
        self._dirty: set[str] = set()
        self._parent_cache: dict[str, Row] = {}
        self._pending = Decision()
        for _, plan in order:
            self._admit(plan)

    # ----------------------------------------------------------------- queries (RunView)

    def row(self, name: str, path: str) -> Row:
        if path == "" and self._item_rows.get(name):
            cached = self._parent_cache.get(name)
            if cached is None:
                top = self.rows.get((name, ""), Row())
                if top.casualty:
                    cached = top  # blocked before any item could run
                else:
                    cached = self._rollup([Row(state, status) for (state, status), n
                                           in self._pairs[name].items() if n])
                self._parent_cache[name] = cached
            return cached
        return self.rows.get((name, path), _NO_ROW)

    def has_item(self, name: str, path: str) -> bool:
        return path in self._items.get(name, ())

    def settled(self, name: str, path: str | None = None) -> bool:
        if path is None:
            return self._active[name] == 0
        key = (name, path)
        return key not in self._waiting and key not in self._ready_keys and key not in self.running

    def why_waiting(self, key: Key) -> str:
        plan = self._waiting.get(key) or self._gates.get(key[0])
        if plan is None:
            return ""
        return prereqs.evaluate(plan, key[1], self).reason

    def finished(self) -> bool:
        return not (self._waiting or self._gates or self._ready_keys or self.running)

    def ready_count(self) -> int:
        return len(self._ready_keys)

    def upcoming(self, count: int) -> list[Launch]:
        """The next `count` ready jobs in launch order, left in the queue (limits aside: a
        job held by its jobgroup or exclusivity still counts)."""
        taken: list[tuple[int, int, Key]] = []
        out: list[Launch] = []
        while self._ready and len(out) < count:
            entry = heapq.heappop(self._ready)
            key = entry[2]
            if key not in self._ready_keys:
                continue  # cancelled: dropped from the heap as _launch would
            taken.append(entry)
            item = self._items.get(key[0], {}).get(key[1]) if key[1] else None
            out.append(Launch(key, self.plans[key[0]], item))
        for entry in taken:
            heapq.heappush(self._ready, entry)
        return out

    # ----------------------------------------------------------------- events

    def update(self, key: Key, state: str, status: str, comment: str | None = None) -> None:
        """A row changed (written by a test, the launcher or a user)."""
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = Row()
        row.state, row.status = state, status
        if comment is not None:
            row.comment = comment
        self._note_row(key)
        if key in self.running and not row.running:
            del self.running[key]
            self._finish(key[0])

    def _note_row(self, key: Key) -> None:
        name, path = key
        if path:
            self._item_rows[name].add(path)
            self._count(key)
        self._parent_cache.pop(name, None)
        self._dirty.add(name)

    def _count(self, key: Key) -> None:
        """Count an item row under its (state, status) now, no longer under the old one."""
        row = self.rows[key]
        pair = (row.state, row.status)
        old = self._counted.get(key)
        if old != pair:
            pairs = self._pairs[key[0]]
            if old is not None:
                pairs[old] -= 1
            pairs[pair] += 1
            self._counted[key] = pair

    def cancel(self, key: Key) -> bool:
        """Take a job that has not launched out of the queue (kill request); True if it was queued."""
        if key in self._waiting:
            self._unwait(key)
        elif key in self._ready_keys:
            self._ready_keys.discard(key)  # its heap entry is skipped when popped
        else:
            return False
        self._finish(key[0])
        return True

    # ----------------------------------------------------------------- the decision

    def decide(self, load: Load = _NO_LOAD, max_launches: int | None = None) -> Decision:
        if not (self._dirty or self._first or self._pending) and (
            not self._ready_keys or max_launches == 0
            or len(self.running) + load.running >= self.limits.max_concurrent_jobs
        ) and (self.running or not (self._waiting or self._gates)):
            return Decision()  # nothing changed that could start, block or free anything
        self._settle()
        self._launch(load, max_launches)
        if not self.running and not self._pending.launch and not self._ready_keys and (
            self._waiting or self._gates
        ):
            self._break_deadlock()
            self._settle()
            self._launch(load, max_launches)
        out, self._pending = self._pending, Decision()
        return out

    def _settle(self) -> None:
        """Re-examine jobs whose waitons changed, until nothing more changes."""
        if self._first:
            self._first = False
            names: set[str] = set(self.plans)
        else:
            names = set()
        while True:
            for dirty in self._dirty:
                dependants = self._dependants.get(dirty)
                if dependants:
                    names |= dependants
            self._dirty.clear()
            if not names:
                return
            for name in sorted(names, key=self._rank.__getitem__):
                plan = self.plans[name]
                if name in self._gates:
                    self._try_gate(plan)
                for key in list(self._waiting_by_name.get(name, ())):
                    self._examine(key, plan)
            names = set()

    def _examine(self, key: Key, plan: TestPlan) -> None:
        verdict = prereqs.evaluate(plan, key[1], self)
        if verdict.met:
            self._unwait(key)
            self._make_ready(key)
        elif verdict.blocked:
            self._unwait(key)
            self._finish(key[0])
            self._block(key, verdict.blocked_status or "BLOCKED", verdict.reason)

    def _unwait(self, key: Key) -> None:
        del self._waiting[key]
        self._waiting_by_name[key[0]].pop(key, None)

    def _launch(self, load: Load, max_launches: int | None) -> None:
        if not self._ready_keys or max_launches == 0 or (
            len(self.running) + load.running >= self.limits.max_concurrent_jobs
        ):
            return  # the common turn: every slot is taken or nothing is ready
        held: list[tuple[int, int, Key]] = []
        # what runs, by jobgroup and by name: counted when a job with a group limit or an
        # exclusive one comes up (self.running includes this turn's launches by then)
        running_groups: dict[str, int] | None = None
        running_names: set[str] | None = None
        while self._ready:
            if max_launches is not None and len(self._pending.launch) >= max_launches:
                break
            if len(self.running) + load.running >= self.limits.max_concurrent_jobs:
                break
            entry = heapq.heappop(self._ready)
            key = entry[2]
            if key not in self._ready_keys:
                continue  # cancelled
            plan = self.plans[key[0]]
            group_limit = self.limits.jobgroups.get(plan.jobgroup or "")
            if plan.jobgroup and group_limit is not None:
                if running_groups is None:
                    running_groups = self._running_groups()
                used = running_groups[plan.jobgroup] + load.by_jobgroup.get(plan.jobgroup, 0)
                if used >= group_limit:
                    held.append(entry)
                    continue
            if plan.exclusive:
                if running_names is None:
                    running_names = {full_name(k) for k in self.running} | set(load.names)
                if full_name(key) in running_names:
                    held.append(entry)
                    continue
            self._ready_keys.discard(key)
            self.running[key] = plan
            row = self.rows.setdefault(key, Row())
            row.state, row.status, row.comment = "LAUNCHED", "n/a", ""
            self._note_row(key)
            if plan.jobgroup and running_groups is not None:
                running_groups[plan.jobgroup] += 1
            if running_names is not None:
                running_names.add(full_name(key))
            item = self._items.get(key[0], {}).get(key[1]) if key[1] else None
            self._pending.launch.append(Launch(key, plan, item))
        for entry in held:
            heapq.heappush(self._ready, entry)

    def _running_groups(self) -> defaultdict[str, int]:
        groups: defaultdict[str, int] = defaultdict(int)
        for plan in self.running.values():
            if plan.jobgroup:
                groups[plan.jobgroup] += 1
        return groups

    # ----------------------------------------------------------------- building the queue

    def _admit(self, plan: TestPlan) -> None:
        if plan.config_error is not None:
            self._admit_unreadable(plan, plan.config_error)
        elif plan.items is None:
            self._admit_job(plan, (plan.name, ""), None)
        elif callable(plan.items):
            self._gates[plan.name] = plan
            self._active[plan.name] += 1
            self._register_top(plan)
        else:
            self._register_top(plan)
            self._expand(plan, plan.items)

    def _admit_unreadable(self, plan: TestPlan, reason: str) -> None:
        """A test whose testconfig cannot be read: its row says why, at once. A result the
        rerun rules keep (it passed before the config broke) stays as it is."""
        key = (plan.name, "")
        row = self.rows.get(key)
        if row is None:
            self._pending.register.append((key, None))
        elif not row.casualty and not self._should_run(key, row):
            return
        self._block(key, CONFIG_ERROR, reason)

    def _register_top(self, plan: TestPlan) -> None:
        key = (plan.name, "")
        row = self.rows.get(key)
        if row is None or row.casualty:
            # a top row blocked last time is tried again: NOT_STARTED always runs
            self.rows[key] = Row()
            self._note_row(key)
            self._pending.register.append((key, None))

    def _try_gate(self, plan: TestPlan) -> None:
        verdict = prereqs.evaluate(plan, "", self)
        if verdict.met:
            del self._gates[plan.name]
            assert callable(plan.items)
            try:
                items = plan.items()
            except ConfigError as exc:  # read again at launch, the testconfig failed
                self._finish(plan.name)
                self._block((plan.name, ""), CONFIG_ERROR, exc.one_line())
                return
            self._expand(plan, items)
            self._finish(plan.name)
        elif verdict.blocked:
            del self._gates[plan.name]
            self._finish(plan.name)
            self._block((plan.name, ""), verdict.blocked_status or "BLOCKED", verdict.reason)

    def _expand(self, plan: TestPlan, items: Iterable[Item]) -> None:
        known = self._items.setdefault(plan.name, {})
        wanted = [it for it in items if plan.item_wanted(it.path)]
        for item in wanted:
            known[item.path] = item
        if not known:
            # an [items] list that evaluated to nothing (reference 1.7: ZERO_ITEMS)
            self._block((plan.name, ""), "ZERO_ITEMS", "the items list is empty")
            return
        for item in wanted:
            self._admit_job(plan, (plan.name, item.path), item)
        self._parent_cache.pop(plan.name, None)
        self._dirty.add(plan.name)

    def _admit_job(self, plan: TestPlan, key: Key, item: Item | None) -> None:
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = Row()
            self._note_row(key)
            self._pending.register.append((key, item))
        elif not self._should_run(key, row):
            return
        elif (row.state, row.status) != ("NOT_STARTED", "n/a"):
            # queued again: until it runs it is NOT_STARTED, so that its dependants wait for
            # the new result instead of acting on the old one
            self.rows[key] = Row()
            self._note_row(key)
            self._pending.register.append((key, item))
        self._active[plan.name] += 1
        self._waiting[key] = plan
        self._waiting_by_name[plan.name][key] = None

    def _make_ready(self, key: Key) -> None:
        self._seq += 1
        heapq.heappush(self._ready, (self._rank[key[0]], self._seq, key))
        self._ready_keys.add(key)

    def _block(self, key: Key, status: str, reason: str) -> None:
        """Record that a job will not run (callers have already taken it out of the queue)."""
        row = self.rows.setdefault(key, Row())
        row.state, row.status, row.comment = "NOT_STARTED", status, reason
        self._note_row(key)
        self._pending.blocked.append(Blocked(key, status, reason))

    def _finish(self, name: str) -> None:
        self._active[name] -= 1
        if self._active[name] <= 0:
            self._active[name] = 0
        self._dirty.add(name)

    def _break_deadlock(self) -> None:
        """Nothing runs and nothing can launch, yet jobs wait: their waitons can never finish."""
        for key in sorted(self._waiting, key=lambda k: (self._rank[k[0]], k[1])):
            reason = prereqs.evaluate(self._waiting[key], key[1], self).reason
            self._unwait(key)
            self._finish(key[0])
            self._block(key, "BLOCKED", f"{reason}; it can never finish (waiton cycle?)")
        for name, plan in list(self._gates.items()):
            reason = prereqs.evaluate(plan, "", self).reason
            del self._gates[name]
            self._finish(name)
            self._block((name, ""), "BLOCKED", f"{reason}; it can never finish (waiton cycle?)")
