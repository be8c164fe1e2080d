"""`runs start`: config -> selection -> scheduler -> local launcher -> store, in one process.

The loop: ask the scheduler what to do, write its decisions (registrations, blocked reasons,
LAUNCHED), hand launches to the LocalLauncher, then block in the launcher's poll until a child
exits or a deadline (heartbeat, runtime limit, the next check for kill requests) is due. Every
state change a job reports goes to the store and to the scheduler through StoreReporter.

Restart: the run lock (runlock.py) proves no other runner is alive, so rows still LAUNCHED/
RUNNING are stale: their leftover processes are killed and the rows become INCOMPLETE/DEAD,
which the rerun rules launch again; COMPLETED rows are kept. Nothing is lost and nothing that
completed runs twice.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from megatest.engine.model import RUNNING_STATES, Key, Limits, Load, Row, TestPlan, full_name
from megatest.engine.preparer import Outcome, PreparationFailed
from megatest.engine.progress import GOOD, Progress, label
from megatest.engine.request import RunRequest
from megatest.engine.rerun import CLEANRERUN_STATES, CLEANRERUN_STATUSES, RerunPolicy
from megatest.errors import MegatestError, UsageError

if TYPE_CHECKING:
    from megatest.config.area import Area
    from megatest.config.items import Item
    from megatest.config.testconfig import TestConfig
    from megatest.engine.launching import LaunchContext
    from megatest.engine.preparer import PreparerProcess
    from megatest.engine.recorder import StoreReporter
    from megatest.engine.scheduler import Launch, Scheduler
    from megatest.executor.reporter import TestRef
    from megatest.executor.waivers import PreviousRecord
    from megatest.launch.local import LocalLauncher
    from megatest.store.lean import LeanStore as Store

KILL_CHECK_INTERVAL = 1.0  # seconds between reads of KILLREQ rows written by other processes
LOAD_REFRESH_INTERVAL = 1.0  # seconds between reads of what other runs have running
# Work areas are prepared by a forked copy of the runner (engine/preparer.py) unless
# MEGATEST_PREPARER=0, or fork is not possible: then the loop prepares them itself.
PREPARER_ENV = "MEGATEST_PREPARER"
# With a preparer, the work areas of up to this many next ready tests (at most the job
# limit) are made ahead, while the running ones run; they are LAUNCHED only when a slot frees.
PREFETCH_MAX = 8
# Row writes are sent to the store in one transaction at most this often (seconds): readers
# see a change this much later. Start states never overwrite what a test wrote itself
# meanwhile (testwrite.RowPatch.guarded), so the delay cannot lose a test's own status.
FLUSH_INTERVAL = 0.05
STALE_COMMENT = "the runner died while this test was {state}; it runs again"
# a work area being made: its result, the test, the config and item it is made from
Preparing = tuple[Outcome, "TestRef", "TestConfig", "Item | None"]


@dataclass
class RunOutcome:
    run_id: int
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # name, state/status, why


def start_run(request: RunRequest, out: TextIO | None = None) -> RunOutcome:
    """Run (or resume) the run `request` describes; returns the outcome (exit code 0/1)."""
    from megatest.config.area import open_area
    from megatest.engine.runlock import RunLock
    from megatest.store import paths
    from megatest.store.lean import LeanStore as Store

    out = out or sys.stdout
    env = dict(os.environ)
    area = open_area(request.area, target=request.target, reqtarg=request.reqtarg, env=env)
    for diag in area.diagnostics:
        print(f"megatest: warning: {diag.path}:{diag.line}: {diag.message}", file=sys.stderr)
    store = Store.open(area.toppath, fields=area.config.fields)
    try:
        run_id = store.get_or_create_run(
            area.keyvals(), request.runname, contour=request.contour
        )
        with RunLock(paths.db_dir(area.toppath), run_id):
            runner = Runner(area, request, store, run_id, out)
            return runner.run()
    finally:
        store.close()


class Runner:
    def __init__(self, area: Area, request: RunRequest, store: Store, run_id: int, out: TextIO):
        from megatest.executor.prepare import PreparedReceiver, PreparedSender

        self.area = area
        self.request = request
        self.store = store
        self.run_id = run_id
        self.out = out
        self.configs: dict[str, TestConfig] = {}
        self.ids: dict[Key, int] = {}
        self._refs: dict[Key, TestRef] = {}
        self.progress = Progress(f"{request.target}/{request.runname}", out, quiet=request.quiet)
        self._stop: str | None = None
        self._load = Load()
        self._load_at = 0.0
        self._last_launch = 0.0
        self._flushed_at = 0.0
        self._top_dirs: set[Key] = set()
        self._persisting = False
        self._preparing: dict[Key, Preparing] = {}  # LAUNCHED, work area on its way
        self._prefetched: dict[Key, Preparing] = {}  # ready, not launched, work area made ahead
        self._not_ahead: set[Key] = set()  # ready tests whose work area waits for their launch
        self._preparer: PreparerProcess | None = None
        # the preparer's results: encoded in its process, decoded here (executor.prepare)
        self._sender = PreparedSender()
        self._receiver = PreparedReceiver()
        self._forked_configs: frozenset[str] = frozenset()

    # ----------------------------------------------------------------- setup

    def _config(self, name: str) -> TestConfig:
        cfg = self.configs.get(name)
        if cfg is None:
            cfg = self.ctx.read_test(name)
            for diag in cfg.diagnostics:
                print(f"megatest: warning: {diag.path}:{diag.line}: {diag.message}", file=sys.stderr)
            self.configs[name] = cfg
        return cfg

    def _testpatt(self) -> str | None:
        patt = self.request.testpatt
        runconfigs = self.area.runconfigs
        if runconfigs is None:
            return None if self.request.modepatt else (patt or "%")
        return runconfigs.resolve_testpatt(patt, self.request.modepatt)

    def _plans(self, names: list[str], selection) -> list[TestPlan]:
        plans = []
        for name in names:
            cfg = self._config(name)
            items: object = None
            if cfg.itemized:
                if cfg.items_deferred:
                    items = self._deferred_items(name)
                else:
                    items = cfg.items()
            plans.append(
                TestPlan(
                    name=name,
                    waitons=tuple(selection.waitons.get(name, cfg.waiton)),
                    modes=frozenset(cfg.modes),
                    priority=int(cfg.priority),
                    jobgroup=cfg.jobgroup,
                    items=items,  # type: ignore[arg-type]
                    item_wanted=lambda path, n=name: selection.item_wanted(n, path),
                    itemmap=cfg.map_item_path if cfg.itemmaps else None,
                    payload=cfg,
                )
            )
        return plans

    def _deferred_items(self, name: str) -> Callable[[], list]:
        def evaluate() -> list:
            # evaluated once the prerequisites allow it, in the run's environment
            return self.ctx.read_test(name, mode="launch").items()

        return evaluate

    def _recover(self, rows: dict[Key, Row], records) -> None:
        """Rows a dead runner left LAUNCHED/RUNNING/KILLREQ: kill leftovers, mark them."""
        from megatest.engine.launching import leftover_processes

        stale = [r for r in records if r.state in RUNNING_STATES or r.state == "KILLREQ"]
        leftovers = (
            leftover_processes(str(self.area.toppath), self.request.target, self.request.runname)
            if stale else {}
        )
        for pgids in leftovers.values():
            for pgid in pgids:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        changes = []
        for rec in stale:
            key = (rec.testname, rec.item_path)
            if rec.item_path == "" and (rec.testname, "") in rows and any(
                k[0] == rec.testname and k[1] for k in rows
            ):
                continue  # an itemized test's top row follows its items
            if rec.state == "KILLREQ":
                state, status, comment = "KILLED", "KILLED", "killed while no runner was alive"
            else:
                state, status = "INCOMPLETE", "DEAD"
                comment = STALE_COMMENT.format(state=rec.state)
            changes.append((rec.id, state, status, comment))
            rows[key] = Row(state, status, comment)
            self.progress.change(full_name(key), state, status, comment)
        self.store.set_tests_state_status(self.run_id, changes)

    def _resets(self, rows: dict[Key, Row], selected: set[str]) -> None:
        """--rerun-clean / --rerun-all / [setup] allow-auto-rerun, on the selected tests only."""
        setup = self.area.config
        changes = []
        for key, row in rows.items():
            if key[0] not in selected:
                continue
            new: tuple[str, str] | None = None
            if self.request.rerun_all:
                new = ("NOT_STARTED", "n/a")
            elif self.request.rerun_clean:
                states = setup.cleanrerun_states or list(CLEANRERUN_STATES)
                statuses = setup.cleanrerun_statuses or list(CLEANRERUN_STATUSES)
                if row.state in states or row.status in statuses:
                    new = ("NOT_STARTED", "n/a")
            else:
                for state, status in setup.setup.allow_auto_rerun:
                    if (not state or state == row.state) and (not status or status == row.status):
                        new = ("NOT_STARTED", row.status)
                        break
            if new is not None and (row.state, row.status) != new:
                changes.append((self.ids[key], new[0], new[1], None))
                rows[key] = Row(new[0], new[1], row.comment)
        self.store.set_tests_state_status(self.run_id, changes)

    # ----------------------------------------------------------------- the run

    def run(self) -> RunOutcome:
        from megatest.engine.launching import LaunchContext
        from megatest.engine.recorder import StoreReporter
        from megatest.engine.scheduler import Scheduler
        from megatest.engine.selection import select_tests
        from megatest.launch.local import LocalLauncher
        from megatest.store.testwrite import TestWriter

        testpatt = self._testpatt()
        if testpatt is None:
            print(f"megatest: no test pattern ({self.request.modepatt} not set in runconfigs)",
                  file=self.out)
            return RunOutcome(self.run_id, 0)
        self.ctx: LaunchContext = LaunchContext.build(self.area, self.request, self.run_id)
        selection = select_tests(
            list(self.ctx.test_dirs), self._config, testpatt, self.request.tagexpr
        )
        for warning in selection.warnings:
            print(f"megatest: warning: {warning}", file=sys.stderr)
        if not selection.names:
            if not self.request.quiet:
                print(f"megatest: no tests match {testpatt!r}", file=self.out)
            return RunOutcome(self.run_id, 0)
        self._write_test_meta(selection.names)
        records = self.store.get_tests(self.run_id)
        if not records:
            self._pre_hook()
        rows: dict[Key, Row] = {}
        for rec in records:
            key = (rec.testname, rec.item_path)
            self.ids[key] = rec.id
            rows[key] = Row(rec.state, rec.status, rec.comment or "")
        self._recover(rows, records)
        self._resets(rows, set(selection.names))
        policy = RerunPolicy.from_option(self.request.rerun, self.request.force)
        setup = self.area.config.setup
        limits = Limits(
            max_concurrent_jobs=max(1, int(setup.max_concurrent_jobs)),
            jobgroups={k: int(v) for k, v in self.area.config.jobgroups.items()},
            launch_delay=float(setup.launch_delay or 0),
        )
        plans = self._plans(selection.names, selection)
        self.sched: Scheduler = Scheduler(
            plans, rows, should_run=lambda key, row: policy.should_run(row), limits=limits
        )
        # other runners count this run's running tests against their limits while it runs
        self.store.set_run_state_status(self.run_id, state="RUNNING")
        writer = TestWriter(self.area.toppath, self.run_id)
        try:
            self.reporter: StoreReporter = StoreReporter(
                self.store, writer, self.run_id, self._changed
            )
            for key, row in rows.items():
                self.reporter.states[key] = (row.state, row.status)
            self.launcher: LocalLauncher = LocalLauncher()
            self._start_preparer()
            try:
                self._loop()
            finally:
                self._close_preparer()
        finally:
            writer.close()
        self.store.rollup_run(self.run_id)
        return self._outcome(plans)

    def _loop(self) -> None:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        next_kill_check = time.monotonic() + KILL_CHECK_INTERVAL
        try:
            while True:
                if self._stop is not None:
                    self._shutdown()
                    return
                now = time.monotonic()
                decision = self.sched.decide(self._external_load(now), self._launch_budget(now))
                self._apply(decision)
                self._prefetch()
                if self.sched.finished() and not self.launcher.running and not self._preparing:
                    self.reporter.flush()
                    return
                now = time.monotonic()
                if now >= next_kill_check:
                    self._check_kill_requests()
                    next_kill_check = now + KILL_CHECK_INTERVAL
                wait = max(0.0, next_kill_check - now)
                delay = self.sched.limits.launch_delay
                if delay and self.sched.ready_count():
                    wait = min(wait, max(0.0, self._last_launch + delay - now))
                if self.reporter.has_rows():
                    # queued row writes go out at most FLUSH_INTERVAL after they were made
                    if now >= self._flushed_at + FLUSH_INTERVAL:
                        self.reporter.flush(everything=False)
                        self._flushed_at = now
                    else:
                        wait = min(wait, self._flushed_at + FLUSH_INTERVAL - now)
                if self.launcher.running or self._preparing:
                    self._wait(wait)
                    self._start_prepared()
                else:
                    # nothing of ours runs: we wait for other runs (limits, exclusive) or a delay
                    time.sleep(min(wait, 0.5) or 0.05)
                self.progress.draw()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stop = signal.Signals(signum).name

    def _shutdown(self) -> None:
        """SIGINT/SIGTERM: kill what runs (INCOMPLETE/KILLED, rerun next time), then stop."""
        for outcome, _ref, _config, _item in self._prefetched.values():
            outcome.cancel()
        self._prefetched.clear()
        for outcome, ref, _config, _item in self._preparing.values():
            outcome.cancel()
            self.reporter.write(ref, "INCOMPLETE", "KILLED", f"runner got {self._stop}")
        self._preparing.clear()
        self.launcher.kill_all(f"runner got {self._stop}", state="INCOMPLETE", status="KILLED")
        give_up = time.monotonic() + 10
        while self.launcher.running and time.monotonic() < give_up:
            self.launcher.poll(0.2)
        self.reporter.flush()
        raise RunInterrupted(f"interrupted by {self._stop}; running tests were killed")

    def _launch_budget(self, now: float) -> int | None:
        """How many launches this turn: [setup] launch-delay and [jobtools] maxload gate them."""
        maxload = self.area.config.jobtools.maxload
        if maxload and self.sched.ready_count():
            # the original waits while the 1-minute load exceeds maxload x cores (reference 1.6)
            try:
                if os.getloadavg()[0] > maxload * (os.cpu_count() or 1):
                    return 0
            except OSError:
                pass
        delay = self.sched.limits.launch_delay
        if not delay:
            return None
        return 1 if now - self._last_launch >= delay else 0

    def _external_load(self, now: float) -> Load:
        """What other runs of the area have running (limits count all runs, reference 1.10)."""
        if now - self._load_at < LOAD_REFRESH_INTERVAL:
            return self._load
        self._load_at = now
        running = 0
        groups: dict[str, int] = {}
        names: set[str] = set()
        from megatest.engine.runlock import runner_alive
        from megatest.store import paths

        lock_dir = paths.db_dir(self.area.toppath)
        # jobgroups are counted only where a limit reads them, and each test's looked up once
        count_groups = bool(self.sched.limits.jobgroups)
        jobgroup_of: dict[str, str | None] = {}
        for run in self.store.find_runs(state="RUNNING"):
            if run.id == self.run_id:
                continue
            if not runner_alive(lock_dir, run.id):
                continue  # its LAUNCHED/RUNNING rows are stale; its next runner cleans them
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
        self._load = Load(running, groups, frozenset(names))
        return self._load

    # ----------------------------------------------------------------- decisions

    def _ref(self, key: Key) -> TestRef:
        ref = self._refs.get(key)
        if ref is None:
            if key not in self.ids:
                self._register([key])
            # a key's id never changes once registered: one TestRef per row
            ref = self._refs[key] = self.reporter.ref(key[0], key[1], self.ids[key])
        return ref

    def _register(self, keys: list[Key]) -> None:
        """Ids for the keys not known yet (and their parents): one store transaction."""
        missing = [key for key in keys if key not in self.ids]
        if missing:
            self.ids.update(self.store.register_tests(self.run_id, missing))

    def _apply(self, decision) -> None:
        if not decision:
            return  # most turns: a child ended, nothing new to start
        # registrations and blocked reasons are the scheduler's own decisions: persist them
        # without echoing them back into it (a reset echoed after the launch decision would
        # take a job that is already launched out of its running set)
        self._persisting = True
        try:
            self._persist(decision)
        finally:
            self._persisting = False
        for launch in decision.launch:
            self._launch(launch)
            self._last_launch = time.monotonic()

    def _persist(self, decision) -> None:
        self._register([key for key, _item in decision.register]
                       + [blocked.key for blocked in decision.blocked]
                       + [launch.key for launch in decision.launch])
        for key, _item in decision.register:
            ref = self._ref(key)
            state = self.reporter.states.get(key)
            if state is None:
                self.reporter.states[key] = ("NOT_STARTED", "n/a")
                if key[1] or self.sched.plans[key[0]].items is None:
                    # the top row of an itemized test is not counted: its items are
                    self.progress.change(full_name(key), "NOT_STARTED", "n/a")
            elif state != ("NOT_STARTED", "n/a"):
                self.reporter.write(ref, "NOT_STARTED", "n/a", "")
        for blocked in decision.blocked:
            self.reporter.write(self._ref(blocked.key), "NOT_STARTED", blocked.status, blocked.comment)

    def _launch(self, launch: Launch) -> None:
        from megatest.engine.launching import launch_config, skip_reason

        key = launch.key
        ref = self._ref(key)
        ahead = self._prefetched.pop(key, None)
        try:
            config = (
                ahead[2] if ahead is not None
                else launch_config(self.ctx, launch.plan.payload, launch.item)  # type: ignore[arg-type]
            )
            reason = skip_reason(
                config, full_name(key), lambda n: n in self._load.names, self._last_completed
            )
            if reason is not None:
                self.reporter.write(ref, "COMPLETED", "SKIP", reason)
                return
            self.reporter.write(ref, "LAUNCHED", "n/a", "")
        except (MegatestError, OSError) as exc:
            self._launch_failed(ref, exc)
            return
        if ahead is not None:
            self._preparing[key] = ahead
            self._start_prepared()
        else:
            self._prepare(key, ref, config, launch.item)

    def _prefetch(self) -> None:
        """Have the work areas of the next ready tests made while the running ones run.

        Only with a preparer (it works on the other core), never for a test with `[skip]`
        rules (they are judged at launch), and at most min(job limit, PREFETCH_MAX) ahead."""
        if self._preparer is None:
            return
        want = min(self.sched.limits.max_concurrent_jobs, PREFETCH_MAX)
        if len(self._prefetched) >= want:
            return
        for launch in self.sched.upcoming(want):
            key = launch.key
            if key in self._prefetched or key in self._preparing or key in self._not_ahead:
                continue
            config = self._config_ahead(launch)
            if config is None:
                self._not_ahead.add(key)  # decided once: the queue is looked at every turn
                continue
            self._prepare(key, self._ref(key), config, launch.item, into=self._prefetched)

    def _config_ahead(self, launch: Launch) -> TestConfig | None:
        """The launch-time config of a test whose work area may be made ahead, else None:
        `[skip]` rules are judged at launch, and a read that fails is reported at launch."""
        from megatest.engine.launching import launch_config

        plan_config = launch.plan.payload
        if plan_config.skip is not None:  # type: ignore[union-attr]
            return None  # no launch-time read needed to know
        try:
            config = launch_config(self.ctx, plan_config, launch.item)  # type: ignore[arg-type]
        except (MegatestError, OSError):
            return None
        return config if config.skip is None else None

    # ----------------------------------------------------------------- work areas

    def _start_preparer(self) -> None:
        """Fork the preparer once the configs are read (it keeps a copy of them)."""
        from megatest.engine.preparer import PreparerProcess

        if os.environ.get(PREPARER_ENV, "1") == "0":
            return
        self._forked_configs = frozenset(self.configs)
        self._preparer = PreparerProcess.start(self._prepare_in_child, _error_text)
        if self._preparer is not None:
            self.launcher.watch(self._preparer.results_fd)

    def _close_preparer(self) -> None:
        preparer, self._preparer = self._preparer, None
        if preparer is not None:
            self.launcher.unwatch(preparer.results_fd)
            self.launcher.unwatch(preparer.requests_fd)
            preparer.close()

    def _prepare_in_child(self, payload: tuple) -> object:
        from megatest.engine.launching import prepare_work
        from megatest.executor.reporter import TestRef

        name, config, ref_values, item = payload
        prepared = prepare_work(self.ctx, config if config is not None else self.configs[name],
                                TestRef(*ref_values), item)
        return self._sender.encode(prepared)

    def _prepare(self, key: Key, ref: TestRef, config: TestConfig, item: Item | None,
                 into: dict[Key, Preparing] | None = None) -> None:
        """Have the test's work area made: ahead (`into` _prefetched) by the preparer, picked
        up in _wait; for a launched test, here and now (a launch never waits for the
        preparer to get a turn on cores the tests keep busy)."""
        outcome = Outcome()
        table = self._preparing if into is None else into
        table[key] = (outcome, ref, config, item)
        preparer = self._preparer
        if into is not None and preparer is not None and not preparer.broken:
            name = key[0]
            # the child has its own copy of the configs read before the fork
            known = name in self._forked_configs and self.configs.get(name) is config
            try:
                # plain values pickle faster than the TestRef
                ref_values = (ref.test_name, ref.item_path, ref.test_id, ref.run_id)
                preparer.submit(key, (name, None if known else config, ref_values, item))
                return
            except (pickle.PicklingError, TypeError, AttributeError):
                pass  # a config the child cannot be sent: made here
        if table is not self._preparing:
            del table[key]  # not made ahead after all: made when it launches
            return
        self._prepare_here(key)
        self._start_prepared()

    def _prepare_here(self, key: Key) -> None:
        from megatest.engine.launching import prepare_work

        outcome, ref, config, item = self._preparing[key]
        try:
            outcome.set_result(prepare_work(self.ctx, config, ref, item))
        except (MegatestError, OSError) as exc:
            outcome.set_exception(exc)

    def _collect_prepared(self) -> None:
        """Results of the preparer; if it is gone, what it had is made here."""
        preparer = self._preparer
        if preparer is None:
            return
        if preparer.results_fd not in self.launcher.ready_extra and not preparer.wants_to_send:
            return  # the wait ended for a child or a timer: nothing to read or send
        for key, ok, result in preparer.pump():
            if ok:
                result = self._receiver.decode(result)  # every one, in order: see PreparedSender
            entry = self._preparing.get(key) or self._prefetched.get(key)
            if entry is None or entry[0].done():
                continue  # cancelled meanwhile
            if ok:
                entry[0].set_result(result)
            else:
                entry[0].set_exception(PreparationFailed(result))
        if preparer.broken:
            print("megatest: warning: the work-area preparer ended; the runner goes on alone",
                  file=sys.stderr)
            lost = preparer.in_flight
            self._close_preparer()
            for key in lost:
                ahead = self._prefetched.get(key)
                if ahead is not None and not ahead[0].done():
                    del self._prefetched[key]  # made when it launches
            for key in lost:
                if key in self._preparing and not self._preparing[key][0].done():
                    self._prepare_here(key)

    def _start_prepared(self) -> None:
        from megatest.engine.launching import make_job

        for key, (outcome, ref, config, _item) in list(self._preparing.items()):
            if not outcome.done():
                continue
            del self._preparing[key]
            try:
                prepared = outcome.result()
                self._set_dirs(key, prepared.work_area.run_dir_str, prepared.work_area.real_dir_str)
                self.launcher.submit(
                    make_job(self.ctx, config, ref, prepared, self.reporter, self._previous)
                )
            except (MegatestError, OSError, PreparationFailed) as exc:
                self._launch_failed(ref, exc)

    def _launch_failed(self, ref: TestRef, exc: Exception) -> None:
        # the test could not be started (no disk, copy failed, bad config): say so on the
        # test and go on; INCOMPLETE is launched again by the next run
        message = exc.one_line() if isinstance(exc, MegatestError) else str(exc)
        self.reporter.write(ref, "INCOMPLETE", "ABORT", f"launch failed: {message}")

    def _wait(self, timeout: float) -> None:
        """Block until a child exits, a job deadline is due, a work area is ready or timeout."""
        preparer = self._preparer
        if preparer is not None:
            if preparer.wants_to_send:
                self.launcher.watch(preparer.requests_fd, select.POLLOUT)
            else:
                self.launcher.unwatch(preparer.requests_fd)
        self.launcher.poll(timeout)
        self._collect_prepared()

    def _set_dirs(self, key: Key, link: str, real: str) -> None:
        self.reporter.set_values(self._ref(key), {"rundir": link, "shortdir": real})
        self.reporter.run_dirs[key] = real
        name, path = key
        if path and (name, "") not in self._top_dirs:
            # the top row of an itemized test points at the test's directory above the items
            suffix = "/" + path
            top_link = link[: -len(suffix)] if link.endswith(suffix) else link
            top_real = real[: -len(suffix)] if real.endswith(suffix) else real
            self.reporter.set_values(self._ref((name, "")), {"rundir": top_link, "shortdir": top_real})
            self._top_dirs.add((name, ""))

    def _previous(self, test: TestRef) -> PreviousRecord | None:
        """This test/item in the most recent other run of the same target (for waivers)."""
        from megatest.executor.waivers import PreviousRecord

        for run in self.store.find_runs(self.request.target, None, newest_first=True):
            if run.id == self.run_id:
                continue
            rec = self.store.get_test_by_name(run.id, test.test_name, test.item_path)
            if rec is not None:
                return PreviousRecord(rec.state, rec.status, rec.comment, rec.rundir)
        return None

    def _last_completed(self, name: str) -> float | None:
        """When this test last ended in any run (for `[skip] rundelay`)."""
        test, _, item = name.partition("/")
        latest = None
        for run in self.store.find_runs(newest_first=True, limit=20):
            if run.id == self.run_id:
                continue
            rec = self.store.get_test_by_name(run.id, test, item)
            if rec is not None and rec.state in ("COMPLETED", "INCOMPLETE") and rec.event_time:
                end = rec.event_time + (rec.run_duration or 0)
                latest = end if latest is None else max(latest, end)
        return latest

    def _check_kill_requests(self) -> None:
        for rec in self.store.get_tests(self.run_id, states=["KILLREQ"]):
            key = (rec.testname, rec.item_path)
            ref = self._ref(key)
            if self.launcher.job(ref) is not None:
                self.reporter.kill_request_seen(ref)
                self.launcher.kill(ref, "KILLREQ")
            elif self.sched.cancel(key):
                self._prefetched.pop(key, None)
                self.reporter.write(ref, "NOT_STARTED", "KILLED", "kill requested before it started")
            elif rec.item_path == "" and any(k[0] == rec.testname and k[1] for k in self.ids):
                continue  # top row of an itemized test: its items carry the request
            else:
                # nothing of ours to kill: put back what we know it was
                state, status = self.reporter.states.get(key, ("NOT_STARTED", "n/a"))
                if state == "KILLREQ":
                    state = "KILLED"
                self.reporter.write(ref, state, status)

    def _changed(self, test: TestRef, state: str, status: str, comment: str | None) -> None:
        key = (test.test_name, test.item_path)
        if not self._persisting:
            self.sched.update(key, state, status, comment)
        self.progress.change(test.full_name, state, status, comment or "")

    # ----------------------------------------------------------------- the end

    def _outcome(self, plans: list[TestPlan]) -> RunOutcome:
        counts: dict[str, int] = {}
        failures: list[tuple[str, str, str]] = []
        item_keys: dict[str, list[Key]] = {}
        for k in self.sched.rows:
            if k[1]:
                item_keys.setdefault(k[0], []).append(k)
        for plan in plans:
            keys = [k for k in item_keys.get(plan.name, ()) if plan.item_wanted(k[1])]
            top = self.sched.rows.get((plan.name, ""), Row())
            if not keys or top.casualty:
                keys = [(plan.name, "")]
            for key in keys:
                row = self.sched.rows.get(key, Row())
                word = label(row.state, row.status)
                counts[word] = counts.get(word, 0) + 1
                if not (row.state == "COMPLETED" and row.status in GOOD):
                    failures.append((full_name(key), str(row), row.comment))
        code = 1 if failures else 0
        outcome = RunOutcome(self.run_id, code, counts, failures)
        if not self.request.quiet:
            elapsed = time.monotonic() - self.progress.started
            summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            lines = [f"{self.request.target}/{self.request.runname}: {summary} ({elapsed:.1f}s)"]
            for name, state, why in failures:
                lines.append(f"  {name}: {state}" + (f"  {why}" if why else ""))
            self.progress.finish("\n".join(lines))
        return outcome

    def _pre_hook(self) -> None:
        """`[runs] pre-hook CMD`, run once before a new run's first test (reference 1.4 step 15)."""
        from megatest.executor.hooks import run_logged

        command = self.area.config.pre_hook
        if not command:
            return
        name = f"pre-hook-{self.request.target.replace('/', '-')}-{self.request.runname}.log"
        code = run_logged(command, cwd=self.area.toppath, env=self.ctx.run_env,
                          log_path=self.area.toppath / "logs" / name)
        if code != 0:
            print(f"megatest: warning: pre-hook exited {code}; see logs/{name}",
                  file=sys.stderr)

    def _write_test_meta(self, names: list[str]) -> None:
        """test_meta rows for the selected tests (jobgroup counting across runs reads them),
        in one store transaction."""
        metas = {}
        for name in names:
            meta = self._config(name).test_meta
            fields = {
                k: v for k, v in meta.items()
                if k in ("author", "owner", "description", "reviewed", "tags", "jobgroup")
            }
            if fields:
                metas[name] = fields
        self.store.set_test_meta_many(metas)


def _error_text(exc: BaseException) -> str | None:
    """The one line of an error preparing a test (None: not an expected error)."""
    if isinstance(exc, MegatestError):
        return exc.one_line()
    if isinstance(exc, OSError):
        return str(exc)
    return None


class RunInterrupted(MegatestError):
    """The runner was stopped by a signal; its running tests were marked INCOMPLETE/KILLED."""

    exit_code = 1


def check_target(target: str | None, runname: str | None) -> None:
    if not target:
        raise UsageError("--target is required (e.g. --target ubuntu/gcc12)")
    if not runname:
        raise UsageError("--runname is required")
