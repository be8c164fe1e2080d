"""RemoteWriter: a RunWriter (megatest.store.interface) that sends a run's writes to the
area's server, `POST /runs/<id>/writes`, over one kept-alive connection.

A batch carries an id the client chose; when the connection fails (the server died, or
restarted) the client finds a server again (client.find_server) and sends the same batch
with the same id; when no server can be had it writes the batch to the store directly, so
no write is dropped. The API's writes set values, so a batch applied twice (the server
committed it, then died before answering) leaves what applying it once does.

Standard library only until a write is sent: the test helpers build one per call.
"""

from __future__ import annotations

import os

from megatest.errors import UsageError
from megatest.server import client, packets
from megatest.server.secret import read_secret

TYPE_CHECKING = False  # not typing's: it costs the helpers' calls several ms
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from megatest.store.writes import Write

WRITE_TIMEOUT = 60.0  # seconds: a batch waits for the run db's lock, at most its busy timeout
FINDS = 3  # servers tried for one batch before it is written directly


def open_remote_writer(area: str | os.PathLike, run_id: int) -> RemoteWriter | None:
    """A writer through the area's server when one answers, else None (write directly).
    Looks at `.meta/` first, so an area without a server costs one listdir."""
    try:
        names = os.listdir(packets.meta_dir(area))
    except OSError:
        return None
    if not any(name.endswith(packets.SUFFIX) for name in names):
        return None
    found = client.find_server(area)
    if found is None:
        return None
    return RemoteWriter(area, run_id, found.packet)


class RemoteWriter:
    """One run's writes through the server; each call outside `batch()` is one request."""

    def __init__(self, area: str | os.PathLike, run_id: int,
                 packet: packets.Packet | None = None) -> None:
        self.area, self.run_id = os.fspath(area), int(run_id)
        self.packet = packet
        self._conn = None
        self._secret: str | None = None
        self._pending: list[dict] | None = None
        self._depth = 0
        self.direct_batches = 0  # batches written to the store because no server answered

    # -- RunWriter --------------------------------------------------------------------------
    def batch(self) -> _Batch:
        """The writes inside are sent as one batch (one transaction) when the block ends."""
        return _Batch(self)

    def apply(self, entries: Sequence[Write]) -> None:
        from megatest.server.wire import from_record

        if not self._depth:
            raise UsageError("RemoteWriter.apply must run inside writer.batch()")
        self._pending.extend(from_record(entry) for entry in entries)

    def set_state_status(self, test_id: int, state: str | None = None,
                         status: str | None = None, comment: str | None = None) -> None:
        """The rollup is done by the server; its result is not sent back."""
        self._write({"kind": "state", "test_id": test_id, "state": state, "status": status,
                     "comment": comment})

    def add_step(self, test_id: int, stepname: str, state: str, status: str,
                 logfile: str = "", comment: str = "") -> None:
        self._write({"kind": "step", "test_id": test_id, "stepname": stepname, "state": state,
                     "status": str(status), "logfile": logfile or "", "comment": comment or ""})

    def add_test_data(self, test_id: int, rows: Iterable[Mapping[str, object]]) -> None:
        """The rolled-up status is the server's; it is not sent back."""
        self._write({"kind": "data", "test_id": test_id,
                     "rows": [{k: v for k, v in row.items() if v is not None} for row in rows]})

    def update_fields(self, test_id: int, **fields: object) -> None:
        if fields:
            self._write({"kind": "fields", "test_id": test_id, "fields": fields})

    def heartbeat(self, test_id: int, *, cpuload: float | None = None,
                  diskfree: int | None = None) -> None:
        self._write({"kind": "heartbeat", "test_id": test_id, "cpuload": cpuload,
                     "diskfree": diskfree})

    def test_id(self, testname: str, item_path: str = "") -> int | None:
        """A read: straight from the run db (reads are not served yet)."""
        from megatest.store import open_run_writer

        with open_run_writer(self.area, self.run_id) as direct:
            return direct.test_id(testname, item_path)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> RemoteWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ----------------------------------------------------------------------------
    def _write(self, write: dict) -> None:
        if self._depth:
            self._pending.append(write)
        else:
            self.send([write])

    def send(self, writes: list[dict]) -> None:
        """Send one batch until a server commits it; written directly when none can be had.
        A batch the server refuses (unknown test, bad value) is a UsageError."""
        import json  # 12 ms: only once a server is up

        body = json.dumps({"batch": os.urandom(8).hex(), "writes": writes}).encode()
        for _attempt in range(FINDS):
            if self.packet is None:
                break
            answer = self._post(body)
            if answer is None:  # the connection failed: look for a server again
                found = client.find_server(self.area)
                self.packet = found.packet if found is not None else None
                continue
            status, message = answer
            if status == 200:
                return
            if status == 400:
                raise UsageError(f"server {self.packet.address()}: {message}")
            break  # 401 (not our server any more), 5xx: the store will say what is wrong
        self._write_directly(writes)

    def _post(self, body: bytes) -> tuple[int, str] | None:
        """(status, error line) of one POST; None when the connection failed."""
        import http.client
        import json

        secret = read_secret(self.area) if self._conn is None else self._secret
        self._secret = secret
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.packet.host, self.packet.port,
                                                        timeout=WRITE_TIMEOUT)
            self._conn.request("POST", f"/runs/{self.run_id}/writes", body=body,
                               headers={"Authorization": f"Bearer {secret}",
                                        "Content-Type": "application/json"})
            response = self._conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return None
        if response.status == 200:
            return 200, ""
        try:
            message = json.loads(payload).get("error", "")
        except (ValueError, AttributeError):
            message = payload.decode(errors="replace")[:200]
        return response.status, message

    def _write_directly(self, writes: list[dict]) -> None:
        from megatest.server.wire import BadBatch, check_write, to_records
        from megatest.store import open_run_writer

        try:
            for index, write in enumerate(writes):
                check_write(write, index)
        except BadBatch as exc:
            raise UsageError(str(exc)) from None
        with open_run_writer(self.area, self.run_id) as direct, direct.batch():
            direct.apply(to_records(writes))
        self.direct_batches += 1


class _Batch:
    """RemoteWriter.batch(): nested blocks join the outer one; an error drops the batch."""

    __slots__ = ("writer",)

    def __init__(self, writer: RemoteWriter) -> None:
        self.writer = writer

    def __enter__(self) -> RemoteWriter:
        w = self.writer
        if not w._depth:
            w._pending = []
        w._depth += 1
        return w

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        w = self.writer
        w._depth -= 1
        if w._depth:
            return
        pending, w._pending = w._pending, None
        if exc_type is None and pending:
            w.send(pending)
