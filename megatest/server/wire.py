"""The write API's JSON form: a batch of typed writes for one run, checked and turned into
megatest.store.writes records (what RunWriter.apply takes).

    {"batch": "5f0c9a1e2b7d4c68", "writes": [
        {"kind": "state", "test_id": 7, "state": "RUNNING", "status": "n/a"},
        {"kind": "step", "test_id": 7, "stepname": "build", "state": "end", "status": "0"},
        {"kind": "data", "test_id": 7, "rows": [{"category": "perf", "variable": "t",
                                                 "value": "1.2", "expected": "1", "tol": "0.5"}]},
        {"kind": "fields", "test_id": 7, "fields": {"host": "node3", "pid": 4242}},
        {"kind": "heartbeat", "test_id": 7, "cpuload": 0.5}]}

Every write sets values (a state, a step row keyed by test+step+state, a data row keyed by
test+category+variable, columns), so applying a batch twice leaves what applying it once
does; the one exception is the heartbeat's test_rundat sample (see docs/decisions.md).
Standard library only at import: a client encodes with plain dicts.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the helpers' client imports this module
if TYPE_CHECKING:
    from megatest.store.writes import Write

AREA_HEADER = "X-Megatest-Area"  # the writing client's area, real path (another's: 409)
MAX_WRITES = 10_000  # per batch: a runner's loop turn writes far fewer
MAX_BATCH_ID = 64
DATA_FIELDS = ("category", "variable", "value", "expected", "tol", "units", "comment", "status",
               "type")
_REQUIRED = {"state": (), "step": ("stepname", "state", "status"), "data": ("rows",),
             "fields": ("fields",), "heartbeat": ()}
_OPTIONAL_TEXT = {"state": ("state", "status", "comment"), "step": ("logfile", "comment"),
                  "data": (), "fields": (), "heartbeat": ()}


def kinds() -> tuple[str, ...]:
    return tuple(_REQUIRED)


def required(kind: str) -> tuple[str, ...]:
    """The keys a write of `kind` must have besides kind and test_id."""
    return _REQUIRED[kind]


def write_keys(kind: str) -> tuple[str, ...]:
    """The required keys of `kind` that hold text."""
    return tuple(k for k in _REQUIRED[kind] if k not in ("rows", "fields"))


def optional_text(kind: str) -> tuple[str, ...]:
    return _OPTIONAL_TEXT[kind]


class BadBatch(ValueError):
    """A batch the API refuses (HTTP 400): its message is the one-line answer."""


def decode_batch(payload: object) -> tuple[str, list[dict]]:
    """(batch id, writes) of a request body, checked for shape; BadBatch otherwise."""
    if not isinstance(payload, dict):
        raise BadBatch("the body must be a JSON object with 'batch' and 'writes'")
    unknown = set(payload) - {"batch", "writes"}
    if unknown:
        raise BadBatch(f"unknown key(s) {', '.join(sorted(unknown))}")
    batch, writes = payload.get("batch"), payload.get("writes")
    if not isinstance(batch, str) or not 0 < len(batch) <= MAX_BATCH_ID:
        raise BadBatch(f"'batch' must be a string of 1 to {MAX_BATCH_ID} characters")
    if not isinstance(writes, list) or not writes:
        raise BadBatch("'writes' must be a non-empty list")
    if len(writes) > MAX_WRITES:
        raise BadBatch(f"at most {MAX_WRITES} writes in one batch")
    for index, write in enumerate(writes):
        check_write(write, index)
    return batch, writes


def check_write(write: object, index: int = 0) -> None:
    """BadBatch when `write` is not one of the API's writes (naming it by its index)."""
    where = f"write {index}"
    if not isinstance(write, dict):
        raise BadBatch(f"{where}: not an object")
    kind = write.get("kind")
    if kind not in _REQUIRED:
        raise BadBatch(f"{where}: unknown kind {kind!r}; kinds: {', '.join(_REQUIRED)}")
    allowed = {"kind", "test_id", *_REQUIRED[kind], *_OPTIONAL_TEXT[kind]}
    if kind == "heartbeat":
        allowed |= {"cpuload", "diskfree"}
    unknown = set(write) - allowed
    if unknown:
        raise BadBatch(f"{where}: unknown key(s) {', '.join(sorted(unknown))} for {kind}")
    if not _is_int(write.get("test_id")) or write["test_id"] < 1:
        raise BadBatch(f"{where}: 'test_id' must be a positive integer below 2**63")
    for key in _REQUIRED[kind]:
        if key not in write:
            raise BadBatch(f"{where}: {kind} needs {key!r}")
    for key in (*_OPTIONAL_TEXT[kind], *write_keys(kind)):
        value = write.get(key)
        if value is not None and not isinstance(value, str):
            raise BadBatch(f"{where}: {key!r} must be a string")
    if kind == "data":
        _check_rows(write["rows"], where)
    elif kind == "fields":
        _check_fields(write["fields"], where)
    elif kind == "heartbeat":
        for key in ("cpuload", "diskfree"):
            if write.get(key) is not None and not _is_number(write[key]):
                raise BadBatch(f"{where}: {key!r} must be a number")


def _check_rows(rows: object, where: str) -> None:
    if not isinstance(rows, list) or not rows:
        raise BadBatch(f"{where}: 'rows' must be a non-empty list")
    for row in rows:
        if not isinstance(row, dict):
            raise BadBatch(f"{where}: each row must be an object")
        unknown = set(row) - set(DATA_FIELDS)
        if unknown:
            raise BadBatch(f"{where}: unknown data field(s) {', '.join(sorted(unknown))}")
        if not isinstance(row.get("variable"), str) or not row["variable"]:
            raise BadBatch(f"{where}: each row needs a 'variable'")
        for key, value in row.items():
            if value is not None and not isinstance(value, str) and not _is_number(value):
                raise BadBatch(f"{where}: data field {key!r} must be a string or a number")


def _check_fields(fields: object, where: str) -> None:
    from megatest.store.columns import UPDATABLE_TEST_FIELDS

    if not isinstance(fields, dict) or not fields:
        raise BadBatch(f"{where}: 'fields' must be a non-empty object")
    unknown = set(fields) - UPDATABLE_TEST_FIELDS - {"pid"}
    if unknown:
        raise BadBatch(f"{where}: cannot set test field(s) {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        if value is not None and not isinstance(value, str) and not _is_number(value):
            raise BadBatch(f"{where}: field {key!r} must be a string or a number")


# what an SQLite INTEGER holds: a JSON integer beyond it is refused, not an overflow at commit
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX


def _is_number(value: object) -> bool:
    return _is_int(value) or isinstance(value, float)


def to_records(writes: list[dict]) -> list[Write]:
    """Checked writes (decode_batch) as the store's typed records."""
    from megatest.store.writes import DataWrite, FieldsWrite, HeartbeatWrite, StateWrite, StepWrite

    records: list[Write] = []
    for w in writes:
        kind, test_id = w["kind"], w["test_id"]
        if kind == "state":
            records.append(StateWrite(test_id, w.get("state"), w.get("status"), w.get("comment")))
        elif kind == "step":
            records.append(StepWrite(test_id, w["stepname"], w["state"], w["status"],
                                     w.get("logfile") or "", w.get("comment") or ""))
        elif kind == "data":
            records.append(DataWrite(test_id, w["rows"]))
        elif kind == "fields":
            records.append(FieldsWrite(test_id, w["fields"]))
        else:
            records.append(HeartbeatWrite(test_id, w.get("cpuload"), w.get("diskfree")))
    return records


def from_record(record: object) -> dict:
    """A store write record as the API's JSON object (what a client sends). The runner's
    merged RowPatch is not an API write: TypeError."""
    from megatest.store.writes import DataWrite, FieldsWrite, HeartbeatWrite, StateWrite, StepWrite

    if isinstance(record, StateWrite):
        return {"kind": "state", **record._asdict()}
    if isinstance(record, StepWrite):
        return {"kind": "step", **record._asdict()}
    if isinstance(record, DataWrite):
        return {"kind": "data", "test_id": record.test_id, "rows": [dict(r) for r in record.rows]}
    if isinstance(record, FieldsWrite):
        return {"kind": "fields", "test_id": record.test_id, "fields": dict(record.fields)}
    if isinstance(record, HeartbeatWrite):
        return {"kind": "heartbeat", **record._asdict()}
    raise TypeError(f"not a write the server API takes: {record!r}")
