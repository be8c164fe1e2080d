"""`runs start`: config -> selection -> scheduler -> launcher -> store, in one process.

This module puts a run together and nothing else: the area and its store, the run's claim
(one runner per run), the run's events and their listeners (the progress display first), the
reporter, the launcher the area names (megatest.launch.registry), the session set up
(engine/session.py) and the loop (engine/runner.py). Whoever calls `run_in_store` chooses the
store, the clock, the listeners and whether work areas are made by a forked preparer: the
tests drive whole runs in-process that way, with a fake launcher registered by name.

Restart: the claim proves no other runner is alive, so rows still LAUNCHED/RUNNING are
stale. `runs start` runs under a keeper (executor/keeper.py) that outlives a dead runner and
writes down how the steps it left running end; with that record the launcher carries those
tests on from where they were (a step still running is adopted). What has no record is
killed and its row becomes INCOMPLETE/DEAD, which the rerun rules launch again; COMPLETED
rows are kept. Nothing is lost and nothing that completed runs twice.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from megatest.engine.clock import SYSTEM_CLOCK, Clock
from megatest.engine.request import RunRequest
from megatest.engine.summary import RunOutcome
from megatest.errors import MegatestError, UsageError

if TYPE_CHECKING:
    from megatest.config.area import Area
    from megatest.engine.run_events import RunListener
    from megatest.store.interface import Store

__all__ = ["RunOutcome", "check_target", "run_in_store", "start_run"]


def start_run(request: RunRequest, out: TextIO | None = None, *, kept: bool = True,
              server: bool | None = None,
              listeners: Sequence[RunListener] = ()) -> RunOutcome:
    """Run (or resume) the run `request` describes; returns the outcome (exit code 0/1).
    `listeners` hear the run's events after the progress display (report writers).

    `kept`: this process forks first, and its parent stays behind as the run's keeper (it
    never returns here; it exits with this process's exit code). `server`: bring the area's
    server up when none answers (None: as the environment and `[server] autostart` say)."""
    from megatest.config.area import open_area
    from megatest.store import open_store

    if kept:
        from megatest.executor.keeper import start_keeper

        start_keeper()
    out = out or sys.stdout
    started = SYSTEM_CLOCK.monotonic()
    area = open_area(request.area, target=request.target, reqtarg=request.reqtarg,
                     env=dict(os.environ))
    for diag in area.diagnostics:
        print(f"megatest: warning: {diag.path}:{diag.line}: {diag.message}", file=sys.stderr)
    launcher_of(area)  # a launcher that cannot be had stops the run before anything is written
    _bring_up_server(area, server)
    with open_store(area.toppath, fields=area.config.fields) as store:
        return run_in_store(area, request, store, out=out, started=started,
                            listeners=listeners)


def run_in_store(
    area: Area,
    request: RunRequest,
    store: Store,
    *,
    out: TextIO,
    clock: Clock = SYSTEM_CLOCK,
    listeners: Sequence[RunListener] = (),
    use_preparer: bool | None = None,
    started: float | None = None,
) -> RunOutcome:
    """Register (or find) the run in `store`, claim it, and run it to its end."""
    from megatest.engine.history import PastDurations
    from megatest.engine.progress import Progress
    from megatest.engine.recorder import StoreReporter
    from megatest.engine.run_events import RunEvents
    from megatest.engine.runner import Runner
    from megatest.engine.session import open_session
    from megatest.engine.workareas import preparer_wanted
    from megatest.launch import registry
    from megatest.launch.base import LauncherContext, Selector

    launcher_line, other_lines = launcher_of(area)
    run_id = store.get_or_create_run(area.keyvals(), request.runname, contour=request.contour)
    with store.claim_run(run_id):
        events = RunEvents()
        events.subscribe(Progress(f"{request.target}/{request.runname}", out,
                                  quiet=request.quiet))
        for listener in listeners:
            events.subscribe(listener)
        selector = Selector()
        reporter = StoreReporter(store, run_id, events, clock=clock.monotonic)
        launcher = registry.create(launcher_line, LauncherContext(
            reporter, selector, clock.monotonic, section=_config_section(area),
            line_for=lambda test: area.config.launcher_for(test.test_name, test.item_path),
            expected=PastDurations(store, run_id, request.target).seconds),
            other_lines=other_lines)
        try:
            session = open_session(area, request, store, run_id, launcher, events, out)
            if session is None:
                return RunOutcome(run_id, 0)
            runner = Runner(session, store, reporter, launcher, selector, events, clock,
                            use_preparer=preparer_wanted() if use_preparer is None else use_preparer,
                            started=started)
            return runner.run()
        finally:
            launcher.close()


def _bring_up_server(area: Area, given: bool | None) -> None:
    """Start the area's server (detached, not waited for) when none answers: the tests report
    through it once it is up. A server that cannot be started costs the run nothing: the
    tests write to the db directly."""
    from megatest.server import autostart

    settings = area.config.server
    if not autostart.wanted(settings.autostart, given, os.environ):
        return
    try:
        if autostart.bring_up(area.toppath, "runner", settings.homehost):
            from megatest import verbosity

            verbosity.detail(1, f"started a server for {area.toppath} "
                                f"(its log: {area.toppath / 'logs' / 'server.log'})")
    except (OSError, MegatestError) as exc:
        print(f"megatest: warning: no server started for {area.toppath}: {exc}; the tests "
              "write to the database directly", file=sys.stderr)


def _config_section(area: Area) -> Callable[[str], dict[str, str]]:
    """A megatest.config section by name, its text values (a launcher's options)."""

    def section(name: str) -> dict[str, str]:
        return {k: v for k, v in area.config.raw.section(name).items() if isinstance(v, str)}

    return section


def launcher_of(area: Area) -> tuple[str | None, list[tuple[str, str]]]:
    """The area's launcher line (`[jobtools] launcher`) and, with `flexi-launcher`, the
    `[host-types]` lines its `[launchers]` patterns may send tests to (where, line); each
    checked (a UsageError names an unknown launcher and where it is)."""
    from megatest.launch import registry

    config = area.config
    registry.parse(config.jobtools.launcher)
    others = []
    if config.jobtools.flexi_launcher:
        for _pattern, host_type in config.launchers:
            line = config.host_types.get(host_type)
            if line is not None:  # (the original goes on to the next line)
                where = f"[host-types] {host_type}"
                registry.parse(line, where=where)
                others.append((where, line))
    return config.jobtools.launcher, others


def check_target(target: str | None, runname: str | None) -> None:
    """A target and run name that name folders of their own: each becomes a part of every
    work-area path (`<disk>/<target>/<runname>/<test>`), so `/` in a run name would nest one
    run inside another's test, and `.`/`..` would step out of the run's folder."""
    if not target:
        raise UsageError("--target is required (e.g. --target ubuntu/gcc12)")
    if not runname:
        raise UsageError("--runname is required")
    for part in target.split("/"):
        if part in ("", ".", "..") or "\0" in part:
            raise UsageError(f"--target {target!r}: a part may not be empty, '.' or '..'")
    if "/" in runname or runname in (".", "..") or "\0" in runname:
        raise UsageError(f"--runname {runname!r}: a run name may not hold '/' or be '.' or '..'")
