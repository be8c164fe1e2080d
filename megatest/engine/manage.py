"""Run management outside the runner: remove, set state/status, lock, kill, wait, status,
roll-up of earlier results into a run, and the run directories of tests.

Each works on the runs matching a target pattern and run-name pattern (LIKE with `%`, GLOB
otherwise, as the original) and on the tests of those runs matching `--testpatt` and the
optional `--state`/`--status` filters. A locked run is left alone by remove and
set-state-status (reference 1.14); `runs start` may still run into it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from megatest import verbosity
from megatest.engine.clock import SYSTEM_CLOCK, Clock
from megatest.engine.model import RUNNING_STATES
from megatest.errors import MegatestError, UsageError
from megatest.store import open_store

if TYPE_CHECKING:
    from megatest.executor.deletion import DeletionGuard
    from megatest.store.interface import StateChange, Store
    from megatest.store.records import RunRecord, TestRecord


@dataclass(frozen=True)
class Selector:
    area: Path
    target: str | None
    runname: str | None
    testpatt: str | None = None
    states: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    def require(self) -> None:
        if not self.target:
            raise UsageError("--target is required")
        if not self.runname:
            raise UsageError("--runname is required")


def split_list(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


def matching_runs(store: Store, sel: Selector, *, required: bool = True) -> list[RunRecord]:
    """Runs matching the selector; none is a UsageError when `required`."""
    runs = store.find_runs(sel.target, sel.runname)
    if not runs and required:
        raise UsageError(no_run_line(sel))
    return runs


def no_run_line(sel: Selector) -> str:
    return f"no run matches target {sel.target!r} and run name {sel.runname!r}"


def has_database(area: Path) -> bool:
    """The area has a store to read (or a legacy one that the store will ask to convert)."""
    from megatest.store import paths

    return paths.main_db(area).is_file() or paths.legacy_db(area).is_file()


def matching_tests(store: Store, run: RunRecord, sel: Selector) -> list[TestRecord]:
    return store.get_tests(
        run.id, sel.testpatt or "%", list(sel.states) or None, list(sel.statuses) or None
    )


def iter_matching_tests(store: Store, run: RunRecord, sel: Selector) -> Iterator[TestRecord]:
    """matching_tests' rows, read a page at a time (listings of big runs)."""
    return store.iter_tests(
        run.id, sel.testpatt or "%", list(sel.states) or None, list(sel.statuses) or None
    )


# Test rows written per store transaction by the commands that change many (set-state, kill,
# remove): one per test would cost a commit each, minutes for 100,000 items. A `runs remove`
# stopped midway leaves at most this many removed work areas whose rows still say what they
# were (the next `runs remove` ends them).
WRITE_BATCH = 500


def _write_batched(store: Store, run_id: int, changes: Iterable[StateChange]) -> int:
    """set_tests_state_status in transactions of WRITE_BATCH changes; how many were written."""
    chunk: list[StateChange] = []
    count = 0
    for change in changes:
        chunk.append(change)
        count += 1
        if len(chunk) >= WRITE_BATCH:
            store.set_tests_state_status(run_id, chunk)
            chunk = []
    store.set_tests_state_status(run_id, chunk)
    return count


def set_state_status(
    sel: Selector, state: str, status: str, say: Callable[[str], None]
) -> int:
    count = 0
    with open_store(sel.area, create=False) as store:
        for run in matching_runs(store, sel):
            if run.locked:
                say(f"run {run.target}/{run.runname} is locked: left alone")
                continue
            count += _write_batched(store, run.id, (
                (test.id, state, status, None) for test in matching_tests(store, run, sel)))
    say(f"set {count} test(s) to {state}/{status}")
    return count


def deletion_guard(area: Path, target: str, runname: str, testnames: Iterable[str]) -> DeletionGuard:
    """Where a run's work areas may be deleted: the area's disks (and the tests' own
    `[disks]`), its link tree, its `.db`, and the tests' `tmp_run` folders (areas without
    disks). A config that cannot be read adds nothing: what is not known to be ours stays."""
    from megatest.config.megatest_config import read_megatest_config
    from megatest.config.testconfig import read_testconfig
    from megatest.executor.deletion import DeletionGuard
    from megatest.store import paths

    env = dict(os.environ)
    roots: list[str | Path] = [paths.db_dir(area)]
    owned: list[Path] = []
    try:
        config = read_megatest_config(area, target=target, env=env)
    except MegatestError:
        return DeletionGuard(roots)
    roots += list(config.disks.values())
    roots += [p for p in (config.setup.linktree, env.get("MT_LINKTREE")) if p]
    test_dirs = config.test_dirs()
    for name in set(testnames):
        folder = test_dirs.get(name)
        if folder is None:
            continue
        owned.append(Path(folder) / "tmp_run")
        try:
            testconfig = read_testconfig(folder, toppath=area, mode="raw", env=dict(env),
                                         target=target, runname=runname)
        except MegatestError:
            continue
        roots += list((testconfig.disks or {}).values())
    return DeletionGuard(roots, owned)


def remove(sel: Selector, say: Callable[[str], None], keep_records: bool = False) -> int:
    """Delete the tests' directories and mark them DELETED; a run left empty is removed.

    A directory outside the area's own folders (deletion_guard) is not deleted: the test is
    left as it is, said, and the command ends with UnsafeDeletion (exit 2) after the rest."""
    from megatest.executor.deletion import UnsafeDeletion, recorded_dir
    from megatest.executor.workarea import remove_work_area

    removed = 0
    refused: list[str] = []
    if not has_database(sel.area):
        say(f"{no_run_line(sel)}: nothing to remove")  # a new area: release scripts clean first
        return 0
    with open_store(sel.area, create=False) as store:
        runs = matching_runs(store, sel, required=False)
        if not runs:
            say(f"{no_run_line(sel)}: nothing to remove")
        for run in runs:
            if run.locked:
                say(f"run {run.target}/{run.runname} is locked: left alone")
                continue
            if store.runner_alive(run.id):
                raise UsageError(
                    f"run {run.target}/{run.runname} is running; stop it first with `megatest runs kill`"
                )
            tests = matching_tests(store, run, sel)
            guard = deletion_guard(sel.area, run.target, run.runname, {t.testname for t in tests})
            itemized = {t.testname for t in tests if t.item_path}
            deleted: list[tuple[int, str | None, str | None, str | None]] = []
            try:
                # deepest directories (items) first, as the original does
                for test in sorted(tests, key=lambda t: -len(t.item_path.split("/")) if t.item_path else 0):
                    if test.state in RUNNING_STATES:
                        say(f"{test.fullname} is {test.state}: not removed")
                        continue
                    real, link = recorded_dir(test.shortdir), recorded_dir(test.rundir)
                    try:
                        if not (test.item_path == "" and test.testname in itemized):
                            remove_work_area(real, link, guard=guard)
                        elif link is not None and Path(link).is_dir() and not any(Path(link).iterdir()):
                            Path(guard.check(link, follow=False)).rmdir()
                    except UnsafeDeletion as exc:
                        say(f"{run.target}/{run.runname} {test.fullname}: {exc.one_line()}; left as it is")
                        refused.append(test.fullname)
                        continue
                    if not keep_records:
                        deleted.append((test.id, "DELETED", "n/a", None))
                        if len(deleted) >= WRITE_BATCH:
                            store.set_tests_state_status(run.id, deleted)
                            deleted.clear()
                    verbosity.detail(2, f"removed {run.target}/{run.runname} {test.fullname}")
                    removed += 1
            finally:
                store.set_tests_state_status(run.id, deleted)  # what was removed so far
            if not keep_records and next(iter(store.iter_tests(run.id, page=1)), None) is None:
                store.remove_run(run.id)
                say(f"run {run.target}/{run.runname} removed")
    say(f"removed {removed} test(s)")
    if refused:
        raise UnsafeDeletion(f"{len(refused)} test(s) not removed: their directories are not "
                             f"inside the area's disks, link tree or .db ({', '.join(refused)})")
    return removed


def request_kill(sel: Selector, say: Callable[[str], None]) -> int:
    """KILLREQ on every running or not yet started test: the runner kills or drops them."""
    count = 0
    with open_store(sel.area, create=False) as store:
        for run in matching_runs(store, sel):
            # KILLREQ, status unchanged (Store.request_kill), a batch at a time
            count += _write_batched(store, run.id, (
                (test.id, "KILLREQ", None, None) for test in matching_tests(store, run, sel)
                if test.state in RUNNING_STATES or (test.state, test.status) == ("NOT_STARTED", "n/a")))
    say(f"kill requested for {count} test(s)")
    return count


def kill_and_wait(sel: Selector, say: Callable[[str], None], timeout: float = 15.0,
                  clock: Clock = SYSTEM_CLOCK) -> bool:
    """Request the kill and, with a timeout, wait until nothing runs.

    The request is repeated while waiting: a runner writing a test's state at the moment the
    KILLREQ lands may overwrite it, and the next request then catches it.
    """
    request_kill(sel, say)
    if timeout <= 0:
        return True
    deadline = clock.monotonic() + timeout
    while not wait(sel, say, timeout=1.0, interval=0.25, quiet=True, clock=clock):
        if clock.monotonic() >= deadline:
            wait(sel, say, timeout=0, clock=clock)
            return False
        request_kill(sel, lambda _line: None)
    return True


def wait(sel: Selector, say: Callable[[str], None], timeout: float | None = None,
         interval: float = 1.0, quiet: bool = False, clock: Clock = SYSTEM_CLOCK) -> bool:
    """Block until nothing of the matching runs runs (no runner, no running test); False when
    `timeout` seconds passed first. No matching run: nothing to wait for (as the original).
    The first busy look is said once (unless quiet), every look at `-debug 2`."""
    deadline = None if timeout is None else clock.monotonic() + timeout
    told = quiet
    while True:
        busy = busy_runs(sel)
        if not busy:
            return True
        line = "waiting for " + "; ".join(busy)
        if not told:
            say(line)
            told = True
        verbosity.detail(2, line)
        if deadline is not None and clock.monotonic() >= deadline:
            if not quiet:
                say("still busy: " + "; ".join(busy))
            return False
        clock.sleep(interval)


def busy_runs(sel: Selector) -> list[str]:
    """`target/runname: N running` for each matching run that a runner holds or that has
    running tests among the selected ones."""
    busy = []
    if not has_database(sel.area):
        return busy
    with open_store(sel.area, create=False) as store:
        for run in matching_runs(store, sel, required=False):
            running = [t for t in matching_tests(store, run, sel) if t.state in RUNNING_STATES]
            if running or store.runner_alive(run.id):
                busy.append(f"{run.target}/{run.runname}: {len(running)} running")
    return busy


def rollup(area: Path, target: str, runname: str, say: Callable[[str], None]) -> int:
    """Fill run TARGET/RUNNAME (made when new) with the youngest result of every test and item
    from the other runs of the same target: its row, steps and data. A test whose youngest
    result is already the run's own is left; an itemized test's top row is rolled up from its
    items, as in any run. Returns the number of rows copied."""
    if "%" in target or "*" in target:
        raise UsageError(f"--target {target!r}: rolling up needs one target, not a pattern")
    with open_store(area, create=False) as store:
        parts = target.split("/")
        if len(parts) != len(store.keys) or not all(parts):
            raise UsageError(f"--target {target!r}: give one value for each of {'/'.join(store.keys)}")
        run_id = store.get_or_create_run(dict(zip(store.keys, parts, strict=True)), runname)
        if store.runner_alive(run_id):
            raise UsageError(f"run {target}/{runname} is running; roll up into it once it ended")
        youngest = _youngest_results(store, target, run_id)
        itemized = {name for name, item in youngest if item}
        copied = 0
        # items before top rows: an item registers its parent, whose roll-up it then drives
        for (name, item), (source_run, rec) in sorted(youngest.items(), key=lambda kv: (kv[0][1] == "", kv[0])):
            if source_run == run_id or (item == "" and name in itemized):
                continue
            _copy_test(store, source_run, rec, run_id)
            verbosity.detail(2, f"rolled up {rec.fullname} from run id {source_run}")
            copied += 1
        store.rollup_run(run_id)
    say(f"rolled up {copied} test(s) into {target}/{runname}")
    return copied


def _youngest_results(store: Store, target: str, run_id: int) -> dict[tuple[str, str], tuple[int, TestRecord]]:
    """(testname, item_path) -> (run id, row) of the youngest row among the target's runs.
    Rows of the same second: the later run's wins, and the rolled-up run's own (read last)
    over all, so a test copied before is not copied again."""
    runs = [r for r in store.find_runs(target, None) if r.target == target]  # oldest first
    runs.sort(key=lambda r: r.id == run_id)
    youngest: dict[tuple[str, str], tuple[int, TestRecord]] = {}
    for run in runs:
        for rec in store.get_tests(run.id):
            key = (rec.testname, rec.item_path)
            held = youngest.get(key)
            if held is None or (rec.event_time or 0) >= (held[1].event_time or 0):
                youngest[key] = (run.id, rec)
    return youngest


def _copy_test(store: Store, source_run: int, rec: TestRecord, run_id: int) -> None:
    test_id = store.get_or_create_test(run_id, rec.testname, rec.item_path)
    data = store.get_test_data(source_run, rec.id)
    if data:
        store.add_test_data(run_id, test_id, [
            {"category": d.category, "variable": d.variable, "value": d.value,
             "expected": d.expected, "tol": d.tol, "units": d.units, "comment": d.comment,
             "status": d.status, "type": d.type} for d in data])
    for step in store.get_steps(source_run, rec.id):
        store.add_step(run_id, test_id, step.stepname, step.state, step.status, step.logfile,
                       step.comment, event_time=step.event_time)
    # the row last: the data's roll-up must not change the status copied
    store.set_test_state_status(run_id, test_id, rec.state, rec.status, rec.comment)
    store.update_test_fields(
        run_id, test_id, host=rec.host, cpuload=rec.cpuload, diskfree=rec.diskfree,
        uname=rec.uname, rundir=rec.rundir, shortdir=rec.shortdir, run_duration=rec.run_duration,
        final_logf=rec.final_logf, event_time=rec.event_time, attemptnum=rec.attemptnum,
        fail_count=rec.fail_count, pass_count=rec.pass_count)


def selected_run_dirs(sel: Selector) -> list[str]:
    """The run directories of the selected tests: run by run, youngest test first (as the
    original's -test-paths). Tests without a run directory are left out."""
    if not has_database(sel.area):
        return []
    paths: list[str] = []
    with open_store(sel.area, create=False) as store:
        for run in matching_runs(store, sel, required=False):
            tests = sorted(matching_tests(store, run, sel), key=lambda t: -(t.event_time or 0))
            paths += [t.rundir for t in tests if t.rundir and t.rundir not in ("n/a", "/tmp/badname")]
    return paths


def selected_files(sel: Selector, pattern: str) -> list[str]:
    """Files matching the glob `pattern` inside the selected tests' run directories, in the
    order of selected_run_dirs (each directory's matches sorted)."""
    found: list[str] = []
    for folder in selected_run_dirs(sel):
        if os.path.isdir(folder):
            found += sorted(glob.glob(os.path.join(glob.escape(folder), pattern)))
    return found


def outcome_code(tests: list[TestRecord]) -> int:
    """0 when every test (items, not their top rows) ended PASS/WARN/WAIVED/SKIP, else 1."""
    itemized = {t.testname for t in tests if t.item_path}
    for t in tests:
        if t.item_path == "" and t.testname in itemized:
            continue
        if not (t.state == "COMPLETED" and t.status in ("PASS", "WARN", "WAIVED", "SKIP")):
            return 1
    return 0
