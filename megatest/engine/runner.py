"""The run's event loop: ask the scheduler, launch, wait, hear what changed, until done.

Each turn: ask the scheduler what to do, write its decisions (registrations, blocked reasons,
LAUNCHED), hand work areas that are ready to the launcher as LaunchSpecs, then block in the
launcher's poll (on the runner's Selector, which also holds the preparer's pipes) until a
test ends, a work area is ready or a timer (a job deadline, the next check for kill requests,
a flush of queued writes, a launch delay) is due. Every state change a test reports goes
through the StoreReporter to the store and, as a run event, to the listeners: the scheduler's
feed (below) is one of them.

Everything it works with is given to it: the session (configs, plans, queue), the store, the
reporter, the launcher, the selector, the run's events and the clock.
"""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

from megatest.engine.history import PastRuns
from megatest.engine.load import AreaLoad, over_maxload
from megatest.engine.model import CONFIG_ERROR, RUNNING_STATES, Key, full_name
from megatest.engine.preparer import PreparationFailed
from megatest.engine.run_events import RunEnd, RunListener, TestChange
from megatest.engine.summary import RunOutcome, summarize
from megatest.engine.workareas import PREFETCH_MAX, WorkAreas
from megatest.errors import ConfigError, MegatestError, StoreWriteError
from megatest.launch.base import JobLost

if TYPE_CHECKING:
    from megatest.engine.clock import Clock
    from megatest.engine.recorder import StoreReporter
    from megatest.engine.run_events import RunEvents
    from megatest.engine.scheduler import Decision, Launch
    from megatest.engine.session import RunSession
    from megatest.executor.reporter import TestRef
    from megatest.launch.base import Launcher, LaunchEvent, Selector
    from megatest.store.interface import Store

KILL_CHECK_INTERVAL = 1.0  # seconds between reads of KILLREQ rows written by other processes
# Row writes are sent to the store in one transaction at most this often (seconds): readers
# see a change this much later. Start states never overwrite what a test wrote itself
# meanwhile (writes.RowPatch.guarded), so the delay cannot lose a test's own status.
FLUSH_INTERVAL = 0.05
# How long a stopping runner waits for its killed tests to end.
SHUTDOWN_GRACE = 10.0
# While nothing of its own runs (other runs hold the limits), the runner looks again this often.
IDLE_WAIT = 0.5
# When the store refuses writes (no space, ...): no test starts, the queued writes are tried
# again this often, and once nothing runs the runner keeps them this long before it gives up.
STORE_RETRY_INTERVAL = 1.0
STORE_GIVE_UP = 60.0


class RunInterrupted(MegatestError):
    """The runner was stopped by a signal; its running tests were marked INCOMPLETE/KILLED."""

    exit_code = 1


class _SchedulerFeed(RunListener):
    """Tells the scheduler of every change it did not decide itself."""

    def __init__(self, runner: Runner):
        self.runner = runner

    def test_changed(self, change: TestChange) -> None:
        if not self.runner.persisting:
            test = change.test
            self.runner.sched.update((test.test_name, test.item_path), change.state,
                                     change.status, change.comment)


class Runner:
    def __init__(self, session: RunSession, store: Store, reporter: StoreReporter,
                 launcher: Launcher, selector: Selector, events: RunEvents, clock: Clock, *,
                 use_preparer: bool = True, started: float | None = None):
        self.session = session
        self.request = session.request
        self.run_id = session.run_id
        self.sched = session.scheduler
        self.ids = session.ids
        self.store = store
        self.reporter = reporter
        self.launcher = launcher
        self.events = events
        self.clock = clock
        self.use_preparer = use_preparer
        self.work = WorkAreas(session.ctx, session.configs, selector)
        self.load = AreaLoad(store, session.run_id, self.sched.limits)
        self.past = PastRuns(store, session.run_id, session.request.target)
        self.persisting = False  # writing the scheduler's own decisions: not fed back
        self.started = clock.monotonic() if started is None else started
        self._refs: dict[Key, TestRef] = {}
        self._top_dirs: set[Key] = set()
        self._stop: str | None = None
        self._last_launch: float | None = None
        self._flushed_at = float("-inf")  # the first turn's writes go out at once
        self._unwritable: StoreWriteError | None = None  # the store's last refusal
        self._stuck_since: float | None = None  # nothing runs, the store still refuses
        for key, row in session.rows.items():
            reporter.states[key] = (row.state, row.status)
        events.subscribe(_SchedulerFeed(self))

    # ----------------------------------------------------------------- the run

    def run(self) -> RunOutcome:
        """Run to the end (or to a signal: RunInterrupted); the run's end is published."""
        # other runners count this run's running tests against their limits while it runs
        self.store.set_run_state_status(self.run_id, state="RUNNING")
        if self.use_preparer:
            self.work.start_preparer()
        try:
            self._loop()
        except RunInterrupted:
            self._end()  # listeners close what they write (a report of what did run)
            raise
        finally:
            self.work.close()
        return self._end()

    def _end(self) -> RunOutcome:
        self.store.rollup_run(self.run_id)
        outcome = summarize(self.run_id, self.session.plans, self.sched.rows,
                            self.clock.monotonic() - self.started)
        self.events.run_ended(RunEnd(self.request.target, self.request.runname, outcome))
        return outcome

    def _loop(self) -> None:
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        next_kill_check = self.clock.monotonic() + KILL_CHECK_INTERVAL
        try:
            while True:
                if self._stop is not None:
                    self._shutdown()
                now = self.clock.monotonic()
                self._apply(self.sched.decide(self.load.at(now), self._launch_budget(now)))
                self.work.prefetch(self._upcoming, self._prefetch_want(), self._ref)
                idle = not self.launcher.running and not self.work.launched
                if idle and self.sched.finished() and self._flush():
                    return
                now = self.clock.monotonic()
                self._give_up_when_stuck(idle, now)
                if now >= next_kill_check:
                    self._check_kill_requests()
                    next_kill_check = now + KILL_CHECK_INTERVAL
                wait = self._next_wait(now, next_kill_check)
                if self.launcher.running or self.work.launched:
                    self.work.before_wait()
                    self._handle(self.launcher.poll(wait))
                    self.work.collect()
                    self._start_prepared()
                else:
                    self._orphans()
                    # nothing of ours runs: we wait for other runs (limits, exclusive) or a delay
                    self.clock.sleep(min(wait, IDLE_WAIT) or FLUSH_INTERVAL)
                self.events.turn()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _next_wait(self, now: float, next_kill_check: float) -> float:
        """Seconds until the loop's next own timer; queued row writes go out here when due."""
        wait = max(0.0, next_kill_check - now)
        delay = self.sched.limits.launch_delay
        if delay and self.sched.ready_count() and self._last_launch is not None:
            wait = min(wait, max(0.0, self._last_launch + delay - now))
        if self.reporter.has_rows():
            # queued row writes go out at most FLUSH_INTERVAL after they were made
            interval = FLUSH_INTERVAL if self._unwritable is None else STORE_RETRY_INTERVAL
            if now >= self._flushed_at + interval:
                self._flush(everything=False)
                self._flushed_at = now
            else:
                wait = min(wait, self._flushed_at + interval - now)
        return wait

    def _flush(self, everything: bool = True) -> bool:
        """Write what is queued; False when the store refused (the writes stay queued, no
        test starts until a later flush gets through)."""
        try:
            self.reporter.flush(everything=everything)
        except StoreWriteError as exc:
            if self._unwritable is None:
                print(f"megatest: warning: {exc.one_line()}; no more tests start, and the "
                      f"results are kept and written again every {STORE_RETRY_INTERVAL:g} s",
                      file=sys.stderr)
            self._unwritable = exc
            return False
        if self._unwritable is not None:
            print("megatest: the store takes writes again; the run goes on", file=sys.stderr)
            self._unwritable = None
        return True

    def _give_up_when_stuck(self, idle: bool, now: float) -> None:
        """Nothing of ours runs and the store still refuses: after STORE_GIVE_UP, end with
        one line (exit 1). What was written stays true; the tests whose results could not be
        written are rerun by the next `runs start`."""
        if not idle or self._unwritable is None:
            self._stuck_since = None
            return
        if self._stuck_since is None:
            self._stuck_since = now
        elif now - self._stuck_since >= STORE_GIVE_UP and not self._flush():
            raise StoreWriteError(
                f"{self._unwritable.one_line()}; gave up after {STORE_GIVE_UP:g} s: free space "
                "and run `runs start` again (tests whose results were not written run again)")

    def _handle(self, events: list[LaunchEvent]) -> None:
        """What the launcher says beyond what its tests reported themselves."""
        for event in events:  # the step and end events of its tests: already reported
            if isinstance(event, JobLost):
                self._no_result(event.test, f"the launcher lost the job: {event.reason}")

    def _orphans(self) -> None:
        """Tests the queue counts as running that neither the launcher nor the work-area
        pipeline holds: no one will report their end, so the run would wait forever."""
        for key in list(self.sched.running):
            self._no_result(self._ref(key), "the launcher ended the job without a result")

    def _no_result(self, ref: TestRef, why: str) -> None:
        """A test that still counts as running will never report its end: INCOMPLETE/DEAD
        (rerun by the next run), unless it ended meanwhile."""
        state, _status = self.reporter.states.get((ref.test_name, ref.item_path),
                                                  ("NOT_STARTED", "n/a"))
        if state in (*RUNNING_STATES, "KILLREQ"):
            self.reporter.write(ref, "INCOMPLETE", "DEAD", why)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stop = signal.Signals(signum).name

    def _shutdown(self) -> None:
        """SIGINT/SIGTERM: kill what runs (INCOMPLETE/KILLED, rerun next time), then stop."""
        reason = f"runner got {self._stop}"
        for ref in self.work.cancel():
            self.reporter.write(ref, "INCOMPLETE", "KILLED", reason)
        self.launcher.kill_all(reason, state="INCOMPLETE", status="KILLED")
        give_up = self.clock.monotonic() + SHUTDOWN_GRACE
        while self.launcher.running and self.clock.monotonic() < give_up:
            self.launcher.poll(0.2)
        self._flush()
        raise RunInterrupted(f"interrupted by {self._stop}; running tests were killed")

    def _launch_budget(self, now: float) -> int | None:
        """How many launches this turn: [setup] launch-delay and [jobtools] maxload gate them,
        and a store that refuses writes stops them."""
        if self._unwritable is not None:
            return 0
        if self.sched.ready_count() and over_maxload(self.session.area.config.jobtools.maxload):
            return 0
        delay = self.sched.limits.launch_delay
        if not delay:
            return None
        return 1 if self._last_launch is None or now - self._last_launch >= delay else 0

    def _upcoming(self, count: int) -> list[Launch]:
        """The next launches whose work areas may be made ahead: not a resumed test's (its
        work area exists, with the logs of the steps it has run)."""
        upcoming = self.sched.upcoming(count)
        if self.session.resumed:
            upcoming = [launch for launch in upcoming if launch.key not in self.session.resumed]
        return upcoming

    def _prefetch_want(self) -> int:
        if not self.work.has_preparer:
            return 0
        return min(self.sched.limits.max_concurrent_jobs, PREFETCH_MAX)

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

    def _apply(self, decision: Decision) -> None:
        if not decision:
            return  # most turns: a child ended, nothing new to start
        # registrations and blocked reasons are the scheduler's own decisions: persist them
        # without echoing them back into it (a reset echoed after the launch decision would
        # take a job that is already launched out of its running set)
        self.persisting = True
        try:
            self._persist(decision)
        finally:
            self.persisting = False
        for launch in decision.launch:
            self._launch(launch)
            self._last_launch = self.clock.monotonic()

    def _persist(self, decision: Decision) -> None:
        self._register([key for key, _item in decision.register]
                       + [blocked.key for blocked in decision.blocked]
                       + [launch.key for launch in decision.launch])
        for key, _item in decision.register:
            ref = self._ref(key)
            if key in self.session.resumed:
                continue  # its row stays RUNNING: it is carried on, not started again
            state = self.reporter.states.get(key)
            if state is None:
                self.reporter.states[key] = ("NOT_STARTED", "n/a")
                if key[1] or self.sched.plans[key[0]].items is None:
                    # the top row of an itemized test is not counted: its items are
                    self.events.test_changed(ref, "NOT_STARTED", "n/a", None)
            elif state != ("NOT_STARTED", "n/a"):
                self.reporter.write(ref, "NOT_STARTED", "n/a", "")
        for blocked in decision.blocked:
            self.reporter.write(self._ref(blocked.key), "NOT_STARTED", blocked.status,
                                blocked.comment)

    def _launch(self, launch: Launch) -> None:
        from megatest.engine.launching import launch_config, skip_reason

        key = launch.key
        ref = self._ref(key)
        if key in self.session.resumed:
            self._resume(key, ref, launch)
            return
        ahead = self.work.take_ahead(key)
        try:
            config = (
                ahead.config if ahead is not None
                else launch_config(self.session.ctx, launch.plan.payload, launch.item)  # type: ignore[arg-type]
            )
            reason = skip_reason(config, full_name(key), lambda n: n in self.load.current.names,
                                 self.past.last_completed)
            if reason is not None:
                self.reporter.write(ref, "COMPLETED", "SKIP", reason)
                return
            self.reporter.write(ref, "LAUNCHED", "n/a", "")
        except ConfigError as exc:  # its testconfig, read with the item's values, is bad
            self.reporter.write(ref, "NOT_STARTED", CONFIG_ERROR, exc.one_line())
            return
        except (MegatestError, OSError) as exc:
            self._launch_failed(ref, exc)
            return
        self.work.for_launch(key, ref, config, launch.item, ahead)
        self._start_prepared()

    def _resume(self, key: Key, ref: TestRef, launch: Launch) -> None:
        """A test a dead runner left, carried on by the launcher in its own work area."""
        from megatest.engine.launching import launch_config, launch_spec, resume_work

        link, real = self.session.resumed.pop(key)
        try:
            config = launch_config(self.session.ctx, launch.plan.payload, launch.item)  # type: ignore[arg-type]
            prepared = resume_work(self.session.ctx, config, ref, launch.item, link, real)
            self._handle(self.launcher.submit(
                launch_spec(self.session.ctx, config, ref, prepared, self.past.previous)))
        except (MegatestError, OSError) as exc:
            self._launch_failed(ref, exc)

    def _start_prepared(self) -> None:
        from megatest.engine.launching import launch_spec

        for key, (outcome, ref, config, _item) in self.work.done():
            try:
                prepared = outcome.result()
                self._set_dirs(key, prepared.work_area.run_dir_str, prepared.work_area.real_dir_str)
                self._handle(self.launcher.submit(
                    launch_spec(self.session.ctx, config, ref, prepared, self.past.previous)))
            except (MegatestError, OSError, PreparationFailed) as exc:
                self._launch_failed(ref, exc)

    def _launch_failed(self, ref: TestRef, exc: Exception) -> None:
        # the test could not be started (no disk, copy failed, bad config): say so on the
        # test and go on; INCOMPLETE is launched again by the next run
        message = exc.one_line() if isinstance(exc, MegatestError) else str(exc)
        self.reporter.write(ref, "INCOMPLETE", "ABORT", f"launch failed: {message}")

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

    def _check_kill_requests(self) -> None:
        for rec in self.store.get_tests(self.run_id, states=["KILLREQ"]):
            key = (rec.testname, rec.item_path)
            ref = self._ref(key)
            if self.launcher.has(ref):
                self.reporter.kill_request_seen(ref)
                self.launcher.kill(ref, "KILLREQ")
            elif self.sched.cancel(key):
                self.work.take_ahead(key)
                self.reporter.write(ref, "NOT_STARTED", "KILLED", "kill requested before it started")
            elif rec.item_path == "" and any(k[0] == rec.testname and k[1] for k in self.ids):
                continue  # top row of an itemized test: its items carry the request
            else:
                # nothing of ours to kill: put back what we know it was
                state, status = self.reporter.states.get(key, ("NOT_STARTED", "n/a"))
                if state == "KILLREQ":
                    state = "KILLED"
                self.reporter.write(ref, state, status)
