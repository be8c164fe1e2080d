"""Plain records the store returns (dataclasses, never database rows)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RunRecord:
    id: int
    keys: dict[str, str]
    runname: str
    state: str
    status: str
    owner: str
    event_time: int | None
    comment: str
    fail_count: int
    pass_count: int
    contour: str
    last_update: int | None
    end_time: int | None
    locked: bool

    @property
    def target(self) -> str:
        """"v1/v2/..." in key order; a missing value is "-na-" as in the original."""
        return "/".join(v if v not in (None, "") else "-na-" for v in self.keys.values())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "target": self.target}


@dataclass
class TestRecord:
    __test__ = False  # not a pytest class

    id: int
    run_id: int
    testname: str
    item_path: str
    state: str
    status: str
    event_time: int | None
    host: str
    cpuload: float | None
    diskfree: int | None
    uname: str
    rundir: str
    shortdir: str
    run_duration: int | None
    final_logf: str
    comment: str
    attemptnum: int | None
    archived: int | None
    fail_count: int
    pass_count: int
    logdat: str = ""
    last_update: int | None = None

    @property
    def fullname(self) -> str:
        return f"{self.testname}/{self.item_path}" if self.item_path else self.testname

    @property
    def is_item(self) -> bool:
        return self.item_path != ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StepRecord:
    id: int
    test_id: int
    stepname: str
    state: str
    status: str
    event_time: int | None
    comment: str
    logfile: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TestDataRecord:
    __test__ = False  # not a pytest class

    id: int
    test_id: int
    category: str
    variable: str
    value: Any
    expected: Any
    tol: Any
    units: str | None
    comment: str
    status: str
    type: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TestDataRow:
    """One row to add: the fields of the original's CSV line, in its order."""

    __test__ = False  # not a pytest class

    category: str = ""
    variable: str = ""
    value: Any = None
    expected: Any = None
    tol: Any = None
    units: str | None = None
    comment: str = ""
    status: str | None = None
    type: str = ""
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

