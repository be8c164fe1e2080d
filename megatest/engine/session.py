"""Setting a run up: what to run, what the store already holds, and the queue.

Before the first launch: the test pattern and selection, the testconfigs (read once, shared
with the work-area preparer), test_meta, the `[runs] pre-hook` of a new run, then the rows a
previous runner left: rows still LAUNCHED/RUNNING belong to a dead runner (the caller holds
the run's claim). The launcher carries on the tests it can (the run's keeper left a record of
the step each was running: ended, or still running and adopted); those rows stay as they are
and the queue launches them again as resumptions. What else the dead runner left running is
killed through the launcher and those rows become INCOMPLETE/DEAD (KILLREQ ones KILLED),
which the rerun rules launch again; COMPLETED rows are kept. Then the requested resets (--rerun-clean, --rerun-all, allow-auto-rerun) and the
scheduler over the plans and rows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from megatest.engine.model import RUNNING_STATES, Key, Limits, Row, TestPlan
from megatest.engine.rerun import CLEANRERUN_STATES, CLEANRERUN_STATUSES, RerunPolicy
from megatest.executor.reporter import TestRef
from megatest.launch.base import RunIdentity, StaleTest

if TYPE_CHECKING:
    from megatest.config.area import Area
    from megatest.config.testconfig import TestConfig
    from megatest.engine.launching import LaunchContext
    from megatest.engine.request import RunRequest
    from megatest.engine.run_events import RunEvents
    from megatest.engine.scheduler import Scheduler
    from megatest.engine.selection import Selection
    from megatest.launch.base import Launcher
    from megatest.store.interface import Store
    from megatest.store.records import TestRecord

STALE_COMMENT = "the runner died while this test was {state}; it runs again"


class TestConfigs:
    """The run's testconfigs, each read once (its warnings said once) in the run's env."""

    __test__ = False  # not a pytest class

    def __init__(self, ctx: LaunchContext):
        self.ctx = ctx
        self.read: dict[str, TestConfig] = {}

    def __call__(self, name: str) -> TestConfig:
        cfg = self.read.get(name)
        if cfg is None:
            cfg = self.ctx.read_test(name)
            for diag in cfg.diagnostics:
                print(f"megatest: warning: {diag.path}:{diag.line}: {diag.message}", file=sys.stderr)
            self.read[name] = cfg
        return cfg


@dataclass
class RunSession:
    """A run set up: its context, configs, plans, the rows and ids known, the queue."""

    run_id: int
    request: RunRequest
    ctx: LaunchContext
    configs: TestConfigs
    plans: list[TestPlan]
    rows: dict[Key, Row]
    ids: dict[Key, int]
    scheduler: Scheduler
    # tests a dead runner left that the launcher carries on: key -> (link dir, real dir)
    resumed: dict[Key, tuple[str, str]]

    @property
    def area(self) -> Area:
        return self.ctx.area


def open_session(area: Area, request: RunRequest, store: Store, run_id: int,
                 launcher: Launcher, events: RunEvents, out: TextIO) -> RunSession | None:
    """Set the run up; None when there is nothing to run (a line says why)."""
    from megatest.engine.launching import LaunchContext
    from megatest.engine.scheduler import Scheduler
    from megatest.engine.selection import select_tests

    testpatt = _testpatt(area, request)
    if testpatt is None:
        print(f"megatest: no test pattern ({request.modepatt} not set in runconfigs)", file=out)
        return None
    ctx = LaunchContext.build(area, request, run_id)
    configs = TestConfigs(ctx)
    selection = select_tests(list(ctx.test_dirs), configs, testpatt, request.tagexpr)
    for warning in selection.warnings:
        print(f"megatest: warning: {warning}", file=sys.stderr)
    if not selection.names:
        if not request.quiet:
            print(f"megatest: no tests match {testpatt!r}", file=out)
        return None
    _write_test_meta(store, configs, [n for n in selection.names if n not in selection.broken])
    records = store.get_tests(run_id)
    if not records:
        _pre_hook(ctx)
    rows: dict[Key, Row] = {}
    ids: dict[Key, int] = {}
    for rec in records:
        key = (rec.testname, rec.item_path)
        ids[key] = rec.id
        rows[key] = Row(rec.state, rec.status, rec.comment or "")
    identity = RunIdentity(str(area.toppath), request.target, request.runname, run_id)
    resumed = _recover(store, launcher, events, identity, rows, records, set(selection.names))
    _resets(store, run_id, area, request, rows, ids, set(selection.names))
    for key in [k for k in resumed if rows[k].state not in RUNNING_STATES]:
        del resumed[key]  # reset by --rerun-clean/--rerun-all: it runs afresh
    policy = RerunPolicy.from_option(request.rerun, request.force)
    setup = area.config.setup
    limits = Limits(
        max_concurrent_jobs=max(1, int(setup.max_concurrent_jobs)),
        jobgroups={k: int(v) for k, v in area.config.jobgroups.items()},
        launch_delay=float(setup.launch_delay or 0),
    )
    plans = _plans(ctx, configs, selection)
    scheduler = Scheduler(plans, rows,
                          should_run=lambda key, row: key in resumed or policy.should_run(row),
                          limits=limits)
    return RunSession(run_id, request, ctx, configs, plans, rows, ids, scheduler, resumed)


def _testpatt(area: Area, request: RunRequest) -> str | None:
    runconfigs = area.runconfigs
    if runconfigs is None:
        return None if request.modepatt else (request.testpatt or "%")
    return runconfigs.resolve_testpatt(request.testpatt, request.modepatt)


def _plans(ctx: LaunchContext, configs: TestConfigs, selection: Selection) -> list[TestPlan]:
    return [_plan(ctx, configs, selection, name) for name in selection.names]


def _plan(ctx: LaunchContext, configs: TestConfigs, selection: Selection, name: str) -> TestPlan:
    """One test's plan; a testconfig that cannot be read (or whose static items cannot be
    expanded) gives a plan the scheduler marks NOT_STARTED/CONFIG_ERROR, never launched."""
    from megatest.errors import ConfigError

    broken = selection.broken.get(name)
    if broken is not None:
        return TestPlan(name=name, config_error=broken.one_line())
    cfg = configs(name)
    items: object = None
    if cfg.itemized:
        try:
            items = _deferred_items(ctx, name) if cfg.items_deferred else cfg.items()
        except ConfigError as exc:
            return TestPlan(name=name, config_error=exc.one_line())
    return TestPlan(
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


def _deferred_items(ctx: LaunchContext, name: str) -> Callable[[], list]:
    def evaluate() -> list:
        # evaluated once the prerequisites allow it, in the run's environment
        return ctx.read_test(name, mode="launch").items()

    return evaluate


def _recover(store: Store, launcher: Launcher, events: RunEvents, run: RunIdentity,
             rows: dict[Key, Row], records: list[TestRecord],
             selected: set[str]) -> dict[Key, tuple[str, str]]:
    """Rows a dead runner left LAUNCHED/RUNNING/KILLREQ: the launcher carries on what it can
    (returned: key -> (link dir, real dir)); the others' leftovers are killed and their rows
    marked."""
    stale = [r for r in records if r.state in RUNNING_STATES or r.state == "KILLREQ"]
    if not stale:
        return {}
    refs = {(r.testname, r.item_path): TestRef(r.testname, r.item_path, r.id, run.run_id)
            for r in stale}
    # a KILLREQ test is not carried on (what the user asked for is its end), nor one this
    # run does not select (no one would watch it to its end)
    offered = [StaleTest(refs[(r.testname, r.item_path)], _real_dir(r))
               for r in stale if r.state in RUNNING_STATES and r.testname in selected]
    carried = launcher.recover(run, offered)
    resumed: dict[Key, tuple[str, str]] = {}
    changes = []
    for rec in stale:
        key = (rec.testname, rec.item_path)
        if refs[key] in carried:
            resumed[key] = (rec.rundir, _real_dir(rec))
            continue
        if rec.item_path == "" and any(k[0] == rec.testname and k[1] for k in rows):
            continue  # an itemized test's top row follows its items
        if rec.state == "KILLREQ":
            state, status, comment = "KILLED", "KILLED", "killed while no runner was alive"
        else:
            state, status = "INCOMPLETE", "DEAD"
            comment = STALE_COMMENT.format(state=rec.state)
        changes.append((rec.id, state, status, comment))
        rows[key] = Row(state, status, comment)
        events.test_changed(TestRef(rec.testname, rec.item_path, rec.id, run.run_id),
                            state, status, comment)
    store.set_tests_state_status(run.run_id, changes)
    from megatest import verbosity

    verbosity.detail(1, f"a runner of this run died: {len(resumed)} of its tests carried on, "
                        f"{len(changes)} to run again")
    return resumed


def _real_dir(rec: TestRecord) -> str:
    """The test's real run directory as its row has it; "" when it never had one."""
    from megatest.executor.deletion import recorded_dir

    return recorded_dir(rec.shortdir) or recorded_dir(rec.rundir) or ""


def _resets(store: Store, run_id: int, area: Area, request: RunRequest, rows: dict[Key, Row],
            ids: dict[Key, int], selected: set[str]) -> None:
    """--rerun-clean / --rerun-all / [setup] allow-auto-rerun, on the selected tests only."""
    setup = area.config
    changes = []
    for key, row in rows.items():
        if key[0] not in selected:
            continue
        new: tuple[str, str] | None = None
        if request.rerun_all:
            new = ("NOT_STARTED", "n/a")
        elif request.rerun_clean:
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
            changes.append((ids[key], new[0], new[1], None))
            rows[key] = Row(new[0], new[1], row.comment)
    store.set_tests_state_status(run_id, changes)


def _write_test_meta(store: Store, configs: TestConfigs, names: list[str]) -> None:
    """test_meta rows for the selected tests (jobgroup counting across runs reads them),
    in one store transaction."""
    metas = {}
    for name in names:
        meta = configs(name).test_meta
        fields = {
            k: v for k, v in meta.items()
            if k in ("author", "owner", "description", "reviewed", "tags", "jobgroup")
        }
        if fields:
            metas[name] = fields
    store.set_test_meta_many(metas)


def _pre_hook(ctx: LaunchContext) -> None:
    """`[runs] pre-hook CMD`, run once before a new run's first test (reference 1.4 step 15)."""
    from megatest.executor.hooks import run_logged

    area, request = ctx.area, ctx.request
    command = area.config.pre_hook
    if not command:
        return
    name = f"pre-hook-{request.target.replace('/', '-')}-{request.runname}.log"
    code = run_logged(command, cwd=area.toppath, env=ctx.run_env,
                      log_path=area.toppath / "logs" / name)
    if code != 0:
        print(f"megatest: warning: pre-hook exited {code}; see logs/{name}", file=sys.stderr)

