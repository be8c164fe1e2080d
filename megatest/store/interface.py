"""What the rest of megatest may ask of a store: the Store and RunWriter protocols.

The engine, the test helpers, the management and query commands (and next the server and the
dashboard) type their store as `Store` and get one from `megatest.store.open_store`, the only
place a concrete store is built. The direct SQLite implementation
(megatest.store.api.SqliteStore) is one; a client of the area's server will be another.

Records (RunRecord, TestRecord, ...) are plain values from megatest.store.records; write
operations for a batch are the types of megatest.store.writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from megatest.store import state as model
    from megatest.store.records import (
        RunRecord,
        StepRecord,
        TestDataRecord,
        TestDataRow,
        TestRecord,
    )
    from megatest.store.writes import Write

Key = tuple[str, str]  # (test name, item path)
StateChange = tuple[int, str | None, str | None, str | None]  # test id, state, status, comment


class RunWriter(Protocol):
    """Writes of one run's test rows. The runner groups a loop turn's writes in one batch."""

    def batch(self) -> AbstractContextManager[Any]:
        """Everything written inside is one transaction (all or nothing)."""

    def apply(self, entries: Sequence[Write]) -> None:
        """Write the typed operations in order (inside `batch()`)."""

    def set_state_status(self, test_id: int, state: str | None = None,
                         status: str | None = None, comment: str | None = None) -> Any:
        """A test's state/status/comment (None: unchanged), its item parent rolled up."""

    def add_step(self, test_id: int, stepname: str, state: str, status: str,
                 logfile: str = "", comment: str = "") -> None: ...

    def add_test_data(self, test_id: int, rows: Iterable[Mapping[str, Any]]) -> str | None:
        """Add or replace test_data rows; returns the test's rolled-up status."""

    def update_fields(self, test_id: int, **fields: Any) -> None: ...

    def test_id(self, testname: str, item_path: str = "") -> int | None: ...

    def close(self) -> None: ...

    def __enter__(self) -> RunWriter: ...

    def __exit__(self, *exc: object) -> None: ...


class Store(Protocol):
    """An area's runs and tests. Close it (or use it in a with-block) when done."""

    keys: list[str]

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...

    # -- who runs a run -------------------------------------------------------------------
    def claim_run(self, run_id: int) -> AbstractContextManager[Any]:
        """Held while this process runs the run; a UsageError when another runner holds it."""

    def runner_alive(self, run_id: int) -> bool:
        """Whether some runner holds the run now (its running rows are not stale)."""

    # -- runs -----------------------------------------------------------------------------
    def get_or_create_run(self, keyvals: dict[str, str], runname: str, *, state: str = ...,
                          status: str = ..., owner: str | None = ..., contour: str = ...) -> int: ...

    def get_run(self, run_id: int) -> RunRecord | None: ...

    def find_runs(self, target_patt: str | None = None, runname_patt: str | None = None, *,
                  include_deleted: bool = False, newest_first: bool = False,
                  state: str | None = None, limit: int | None = None) -> list[RunRecord]: ...

    def set_run_state_status(self, run_id: int, state: str | None = None,
                             status: str | None = None, comment: str | None = None) -> None: ...

    def lock_run(self, run_id: int, user: str | None = None) -> None: ...

    def unlock_run(self, run_id: int, user: str | None = None) -> None: ...

    def is_locked(self, run_id: int) -> bool: ...

    def remove_run(self, run_id: int) -> None: ...

    def rollup_run(self, run_id: int) -> model.RunRollup | None: ...

    def get_run_stats(self, run_id: int) -> list[tuple[str, str, int]]: ...

    # -- tests ----------------------------------------------------------------------------
    def register_tests(self, run_id: int, pairs: Iterable[Key], *, state: str = ...,
                       status: str = ..., comment: str | None = ...) -> dict[Key, int]: ...

    def get_or_create_test(self, run_id: int, testname: str, item_path: str = "", *,
                           state: str = ..., status: str = ...,
                           comment: str | None = ...) -> int: ...

    def test_run_id(self, test_id: int) -> int | None: ...

    def get_test(self, run_id: int, test_id: int) -> TestRecord | None: ...

    def get_test_by_name(self, run_id: int, testname: str,
                         item_path: str = "") -> TestRecord | None: ...

    def get_tests(self, run_id: int, testpatt: str | None = None,
                  states: Iterable[str] | None = None, statuses: Iterable[str] | None = None,
                  *, not_in: bool = False, include_deleted: bool = False,
                  since: int | None = None) -> list[TestRecord]: ...

    def iter_tests(self, run_id: int, testpatt: str | None = None,
                   states: Iterable[str] | None = None, statuses: Iterable[str] | None = None,
                   *, page: int = 1000) -> Iterator[TestRecord]:
        """get_tests' rows, read a page at a time (listings of big runs)."""

    def set_test_state_status(self, run_id: int, test_id: int, state: str | None = None,
                              status: str | None = None,
                              comment: str | None = None) -> model.Rollup | None: ...

    def set_tests_state_status(self, run_id: int,
                               changes: Iterable[StateChange]) -> list[model.Rollup | None]: ...

    def update_test_fields(self, run_id: int, test_id: int, **fields: Any) -> None: ...

    def request_kill(self, run_id: int, test_id: int) -> None: ...

    def kill_requested(self, run_id: int, test_id: int) -> bool: ...

    def run_writer(self, run_id: int) -> RunWriter:
        """The run's writer (owned by the store: closed with it, not by the caller)."""

    # -- test_meta and area variables -----------------------------------------------------
    def set_test_meta(self, testname: str, **fields: Any) -> None: ...

    def set_test_meta_many(self, metas: Mapping[str, Mapping[str, Any]]) -> None: ...

    def get_test_meta(self, testname: str) -> dict[str, Any] | None: ...

    def set_var(self, var: str, val: Any) -> None: ...

    def get_var(self, var: str) -> str | None: ...

    # -- steps, data, liveness ------------------------------------------------------------
    def heartbeat(self, run_id: int, test_id: int, *, cpuload: float | None = None,
                  diskfree: int | None = None, diskusage: int | None = None,
                  now: int | None = None) -> int: ...

    def find_dead_tests(self, run_id: int, deadtime: int = ...,
                        now: int | None = None) -> list[int]: ...

    def mark_dead_tests(self, run_id: int, deadtime: int = ...,
                        now: int | None = None) -> list[int]: ...

    def add_step(self, run_id: int, test_id: int, stepname: str, state: str, status: str,
                 logfile: str = "", comment: str = "", *,
                 event_time: int | None = None) -> None: ...

    def get_steps(self, run_id: int, test_id: int) -> list[StepRecord]: ...

    def add_test_data(self, run_id: int, test_id: int,
                      rows: Iterable[TestDataRow | dict[str, Any]]) -> str | None: ...

    def get_test_data(self, run_id: int, test_id: int,
                      category_patt: str | None = None) -> list[TestDataRecord]: ...

    def get_run_data(self, run_id: int,
                     category_patt: str | None = None) -> dict[int, list[TestDataRecord]]: ...
