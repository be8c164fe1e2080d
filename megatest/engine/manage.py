"""Run management outside the runner: remove, set state/status, lock, kill, wait, status.

Each works on the runs matching a target pattern and run-name pattern (LIKE with `%`, GLOB
otherwise, as the original) and on the tests of those runs matching `--testpatt` and the
optional `--state`/`--status` filters. A locked run is left alone by remove and
set-state-status (reference 1.14); `runs start` may still run into it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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


def matching_runs(store: Store, sel: Selector) -> list[RunRecord]:
    runs = store.find_runs(sel.target, sel.runname)
    if not runs:
        raise UsageError(f"no run matches target {sel.target!r} and run name {sel.runname!r}")
    return runs


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
    with open_store(sel.area, create=False) as store:
        for run in matching_runs(store, sel):
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


def kill_and_wait(sel: Selector, say: Callable[[str], None], timeout: float = 15.0) -> bool:
    """Request the kill and, with a timeout, wait until nothing runs.

    The request is repeated while waiting: a runner writing a test's state at the moment the
    KILLREQ lands may overwrite it, and the next request then catches it.
    """
    request_kill(sel, say)
    if timeout <= 0:
        return True
    deadline = time.monotonic() + timeout
    while not wait(sel, say, timeout=1.0, interval=0.25, quiet=True):
        if time.monotonic() >= deadline:
            wait(sel, say, timeout=0)
            return False
        request_kill(sel, lambda _line: None)
    return True


def wait(sel: Selector, say: Callable[[str], None], timeout: float | None = None,
         interval: float = 1.0, quiet: bool = False) -> bool:
    """Block until nothing of the matching runs runs (no runner, no running test)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        busy = []
        with open_store(sel.area, create=False) as store:
            for run in matching_runs(store, sel):
                running = [t for t in matching_tests(store, run, sel) if t.state in RUNNING_STATES]
                if running or store.runner_alive(run.id):
                    busy.append(f"{run.target}/{run.runname}: {len(running)} running")
        if not busy:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            if not quiet:
                say("still busy: " + "; ".join(busy))
            return False
        time.sleep(interval)


def outcome_code(tests: list[TestRecord]) -> int:
    """0 when every test (items, not their top rows) ended PASS/WARN/WAIVED/SKIP, else 1."""
    itemized = {t.testname for t in tests if t.item_path}
    for t in tests:
        if t.item_path == "" and t.testname in itemized:
            continue
        if not (t.state == "COMPLETED" and t.status in ("PASS", "WARN", "WAIVED", "SKIP")):
            return 1
    return 0
