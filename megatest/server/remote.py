"""RemoteWriter: a RunWriter (megatest.store.interface) that sends a run's writes to the
area's server, `POST /runs/<id>/writes`, over one kept-alive connection.

A batch carries an id the client chose; when the connection fails (the server died, or
restarted) the client tries the next server and sends the same batch with the same id;
when no server can be had it writes the batch to the store directly, so no write is
dropped. The API's writes set values, so a batch applied twice (the server committed it,
then died before answering) leaves what applying it once does.

A writer that lives long (a test executing on a node, a benchmark) can send from a thread
of its own (`write_behind`): a call queues its writes and returns, and whatever queued while
a batch was on its way goes as the next batch, so one round trip carries many writes.
`flush()` and `close()` wait until everything queued is committed.

Standard library only until a write is sent: the test helpers build one per call.
"""

from __future__ import annotations

import os

from megatest.errors import UsageError
from megatest.server import client, packets
from megatest.server.secret import read_secret
from megatest.server.wire import AREA_HEADER

TYPE_CHECKING = False  # not typing's: it costs the helpers' calls several ms
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from megatest.server.behind import WriteBehind
    from megatest.server.connection import Connection
    from megatest.store.writes import Write

WRITE_TIMEOUT = 60.0  # seconds: a batch waits for the run db's lock, at most its busy timeout
FINDS = 3  # rounds of looking for a server for one batch before it is written directly


def open_remote_writer(area: str | os.PathLike, run_id: int, *,
                       write_behind: bool = False) -> RemoteWriter | None:
    """A writer through the area's server when a live packet is there, else None (write
    directly). No ping first: the first batch is one, and a server that does not answer it
    passes the batch to the next. An area without a server costs one listdir."""
    found = client.candidates(area)
    if not found:
        return None
    return RemoteWriter(area, run_id, found[0], others=found[1:], write_behind=write_behind)


class RemoteWriter:
    """One run's writes through the server. Each call outside `batch()` is one batch, sent
    at once (one request), or with `write_behind` queued and sent with whatever else queued
    while the previous batch was on its way."""

    def __init__(self, area: str | os.PathLike, run_id: int,
                 packet: packets.Packet | None = None, *, others: Sequence[packets.Packet] = (),
                 write_behind: bool = False) -> None:
        self.area, self.run_id = os.fspath(area), int(run_id)
        self.packet = packet
        self._others = list(others)  # the next servers to try, best first
        self._conn: Connection | None = None
        self._secret: str | None = None
        self._real_area = ""
        self._pending: list[dict] | None = None
        self._depth = 0
        self.direct_batches = 0  # batches written to the store because no server answered
        self._behind: WriteBehind | None = None
        if write_behind:
            from megatest.server.behind import WriteBehind

            self._behind = WriteBehind(self.send)

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

    def flush(self) -> None:
        """Returns once every write made so far is committed (or refused: UsageError)."""
        if self._behind is not None:
            self._behind.flush()

    def close(self) -> None:
        try:
            if self._behind is not None:
                self._behind.close()
        finally:
            self._disconnect()

    def __enter__(self) -> RemoteWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ----------------------------------------------------------------------------
    def _write(self, write: dict) -> None:
        if self._depth:
            self._pending.append(write)
        else:
            self._dispatch([write])

    def _dispatch(self, writes: list[dict]) -> None:
        if self._behind is not None:
            self._behind.put(writes)
        else:
            self.send(writes)

    def send(self, writes: list[dict]) -> None:
        """Send one batch until a server commits it; written directly when none can be had.
        A batch the server refuses (unknown test, bad value) is a UsageError."""
        import json  # only once a server is up

        body = json.dumps({"batch": os.urandom(8).hex(), "writes": writes}).encode()
        for _round in range(FINDS):
            while self.packet is not None:
                status, message = self._post(body)
                if status == 200:
                    return
                if status == 400:
                    raise UsageError(f"server {self.packet.address()}: {message}")
                if status >= 500:
                    break  # the server is ours but cannot write: the store will say why
                # no answer, or not this area's server (401, 409: a copied .meta/): the next
                self._next_server()
            else:
                self._find_servers()
                if self.packet is None:
                    break
                continue
            break
        self._write_directly(writes)

    def _next_server(self) -> None:
        self._disconnect()
        self.packet = self._others.pop(0) if self._others else None

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _find_servers(self) -> None:
        """Look at the packets again (the dead servers' are gone by now, or soon)."""
        self._disconnect()
        found = client.find_server(self.area)
        self.packet = found.packet if found is not None else None
        self._others = []

    def _post(self, body: bytes) -> tuple[int, str]:
        """(status, error line) of one POST; status 0 when the connection failed."""
        import json

        from megatest.server.connection import Connection, ConnectionFailed

        if self._conn is None:
            self._secret = read_secret(self.area)
            self._real_area = os.path.realpath(self.area)
            self._conn = Connection(self.packet.host, self.packet.port, WRITE_TIMEOUT)
        try:
            status, payload = self._conn.request(
                "POST", f"/runs/{self.run_id}/writes",
                {"Authorization": f"Bearer {self._secret}", "Content-Type": "application/json",
                 AREA_HEADER: self._real_area},
                body)
        except ConnectionFailed:
            return 0, ""
        if status == 200:
            return 200, ""
        try:
            message = json.loads(payload).get("error", "")
        except (ValueError, AttributeError):
            message = payload.decode(errors="replace")[:200]
        return status, message

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
            w._dispatch(pending)
