"""What the server answers to reads: a run's tests, one test with its steps and data.

For the clients that cannot (or should not) open the area's databases: dashboards and
tests on other machines. Every read opens the store for the call and closes it (the area's
dbs are WAL: a read never waits for the writer threads). `NotFound` is a 404 with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from megatest.errors import StoreError, UsageError

MAX_SINCE = 2**53  # a `since` beyond what a JSON number holds exactly is no time


class NotFound(Exception):
    """The run or test asked for does not exist."""


def _store(area: Path):
    from megatest.store import open_store

    try:
        return open_store(area, create=False)
    except StoreError:
        raise NotFound("the area has no database yet") from None


def run_tests(area: Path, run_id: int, query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The rows of run `run_id`'s tests and items, optionally only those matching `testpatt`
    (the runs' test pattern language) or changed since `since` (epoch seconds)."""
    testpatt = _one(query, "testpatt")
    since_text = _one(query, "since")
    since = None
    if since_text is not None:
        try:
            since = int(since_text)
        except ValueError:
            raise UsageError(f"since={since_text!r}: epoch seconds expected") from None
        if not 0 <= since <= MAX_SINCE:
            raise UsageError(f"since={since_text}: out of range")
    with _store(area) as store:
        if store.get_run(run_id) is None:
            raise NotFound(f"no run {run_id}")
        return [t.as_dict() for t in store.get_tests(run_id, testpatt, since=since)]


def test_detail(area: Path, run_id: int, test_id: int) -> dict[str, Any]:
    """One test's row, its steps and its data rows."""
    with _store(area) as store:
        if store.get_run(run_id) is None:
            raise NotFound(f"no run {run_id}")
        test = store.get_test(run_id, test_id)
        if test is None:
            raise NotFound(f"run {run_id} has no test {test_id}")
        return {**test.as_dict(),
                "steps": [s.as_dict() for s in store.get_steps(run_id, test_id)],
                "data": [d.as_dict() for d in store.get_test_data(run_id, test_id)]}


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise UsageError(f"{name} given {len(values)} times")
    return values[0]
