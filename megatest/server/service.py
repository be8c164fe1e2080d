"""The server process: stdlib `ThreadingHTTPServer`, JSON only, every call authenticated.

Life: listen, write the packet, refresh it every REFRESH_INTERVAL, stop after `idle_timeout`
seconds without a call (or on SIGTERM/SIGINT), remove the packet. The endpoints read the
area through `megatest.store`; none takes SQL or a command.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from megatest.errors import StoreError, UsageError
from megatest.server import packets, reads, wire
from megatest.server.secret import ensure_secret
from megatest.server.writers import Refused, RunWriters

MAX_BODY = 16 * 1024 * 1024  # bytes: a full batch of test data is far smaller
_WRITES_PATH = re.compile(r"/runs/([0-9]{1,18})/writes")
_TESTS_PATH = re.compile(r"/runs/([0-9]{1,18})/tests")
_TEST_PATH = re.compile(r"/runs/([0-9]{1,18})/tests/([0-9]{1,18})")
MAX_RUN_ID = 10**18 - 1  # what _WRITES_PATH takes, as the description states it


class ServerState:
    """What the handlers and the keep-alive loop share. `clock` is injectable (tests)."""

    def __init__(self, area: Path, itype: str, secret: str, idle_timeout: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.area, self.itype, self.secret = area, itype, secret
        self.real_area = os.path.realpath(area)  # what a client's X-Megatest-Area must name
        self.idle_timeout = idle_timeout
        self.clock = clock
        self.started = clock()
        self.last_call = self.started
        self.last_refresh = self.started
        self.packet: packets.Packet | None = None
        self.writers = RunWriters(area)
        self._lock = threading.Lock()

    def called(self) -> None:
        with self._lock:
            self.last_call = self.clock()

    def idle_for(self, now: float) -> float:
        with self._lock:
            return now - self.last_call

    def tick(self, now: float) -> bool:
        """One pass of the keep-alive loop: refresh the packet when due; False once the
        server has been idle for `idle_timeout`."""
        if self.idle_for(now) >= self.idle_timeout:
            return False
        if self.packet is not None and now - self.last_refresh >= packets.REFRESH_INTERVAL:
            try:
                self.refresh(now)
            except OSError as exc:  # the area's .meta/ is gone (a removed area) or unwritable
                print(f"megatest: server for {self.area}: cannot refresh its packet "
                      f"({exc.strerror or exc}); stopping", flush=True)
                return False
        return True

    def next_wake(self, now: float) -> float:
        """Seconds until the next tick has something to do."""
        wake = self.idle_timeout - self.idle_for(now)
        if self.packet is not None:
            wake = min(wake, packets.REFRESH_INTERVAL - (now - self.last_refresh))
        return max(0.0, wake)

    def publish(self, host: str, port: int) -> packets.Packet:
        now = self.clock()
        packet = packets.Packet(host, port, self.itype, os.getpid(), packets.this_machine(),
                                self.started, now, now)
        self.packet = packets.write_packet(self.area, packet)
        self.last_refresh = now
        return self.packet

    def refresh(self, now: float) -> None:
        """Write the packet again with a new R card (its name changes with its sha1): the
        new one first, then the old one goes, so a client always finds at least one."""
        old = self.packet
        if old is None:
            return
        new = packets.Packet(old.host, old.port, old.itype, old.pid, old.machine, old.started,
                             old.created, now)
        self.packet = packets.write_packet(self.area, new, make_folder=False)
        self.last_refresh = now
        if old.path != self.packet.path:
            packets.remove_quietly(old.path)

    def withdraw(self) -> None:
        if self.packet is not None:
            packets.remove_quietly(self.packet.path)
            self.packet = None

    def ping(self) -> dict[str, Any]:
        return {"area": str(self.area), "pid": os.getpid(), "type": self.itype,
                "uptime": round(self.clock() - self.started, 3),
                "batches": self.writers.batches}

    def runs(self) -> list[dict[str, Any]]:
        from megatest.store import open_store

        try:
            store = open_store(self.area, create=False)
        except StoreError:
            return []  # no database yet: no runs
        with store:
            return [run.as_dict() for run in store.find_runs()]


class Handler(BaseHTTPRequestHandler):
    """JSON over HTTP/1.1 keep-alive. Nagle off: with it, delayed ACKs cost 40 ms a call."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "megatest"
    sys_version = ""  # the Server header names no interpreter version
    state: ServerState  # set on the subclass `make_server` builds

    def do_GET(self) -> None:  # noqa: N802 (the name http.server looks for)
        if not self._authorized():
            return
        from urllib.parse import parse_qs, urlsplit

        url = urlsplit(self.path)
        try:
            answer = self._read(url.path, parse_qs(url.query, keep_blank_values=True))
        except reads.NotFound as exc:
            self._send(HTTPStatus.NOT_FOUND, {"error": str(exc)})
        except UsageError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": exc.one_line()})
        except StoreError as exc:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": exc.one_line()})
        else:
            self._send(HTTPStatus.OK, answer)

    def _read(self, path: str, query: dict[str, list[str]]) -> object:
        route = {"/ping": self.state.ping, "/runs": self.state.runs,
                 "/openapi.json": _openapi}.get(path)
        if route is not None:
            return route()
        match = _TESTS_PATH.fullmatch(path)
        if match is not None:
            return reads.run_tests(self.state.area, int(match[1]), query)
        match = _TEST_PATH.fullmatch(path)
        if match is not None:
            return reads.test_detail(self.state.area, int(match[1]), int(match[2]))
        raise reads.NotFound(f"no endpoint {path}")

    def do_POST(self) -> None:  # noqa: N802
        if not self._authorized():
            return
        match = _WRITES_PATH.fullmatch(self.path)
        if match is None:
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, f"no POST endpoint {self.path}")
            return
        claimed = self.headers.get(wire.AREA_HEADER)
        if claimed is not None and claimed != self.state.real_area:
            # a copy of the area took this area's .meta/ (secret and packets) along: its
            # writes must not land in this area's dbs
            self._refuse(HTTPStatus.CONFLICT, f"this server serves {self.state.real_area}")
            return
        try:
            batch, writes = wire.decode_batch(self._json_body())
            written = self.state.writers.write(int(match[1]), batch, writes)
        except wire.BadBatch as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Refused as exc:
            self._send(HTTPStatus(exc.status), {"error": str(exc)})
        else:
            self._send(HTTPStatus.OK, {"batch": batch, "written": len(writes) if written else 0})

    def do_PUT(self) -> None:  # noqa: N802
        if self._authorized():
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, f"no {self.command} endpoints")

    do_DELETE = do_PATCH = do_PUT  # noqa: N815

    def _json_body(self) -> object:
        """The request's JSON body; wire.BadBatch when it is missing, too big or not JSON."""
        length = self._content_length()
        if not 0 < length <= MAX_BODY:
            self.close_connection = True  # a body we do not read must not be taken as a request
            raise wire.BadBatch(f"a JSON body of 1 to {MAX_BODY} bytes (Content-Length) is needed")
        try:
            return json.loads(self.rfile.read(length))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise wire.BadBatch("the body is not JSON") from None

    def _content_length(self) -> int:
        """The Content-Length header, -1 when it is not a number."""
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return -1

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        if self._content_length():
            self.close_connection = True  # its body is not read
        self._send(status, {"error": message})

    def _authorized(self) -> bool:
        """Checked before anything else is read or answered; a refusal says nothing more."""
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {self.state.secret}"
        if hmac.compare_digest(given.encode(), expected.encode()):
            self.state.called()
            return True
        if self._content_length():
            self.close_connection = True  # do not read a body from someone unknown
        self._send(HTTPStatus.UNAUTHORIZED, {"error": "unauthorized"})
        return False

    def _send(self, status: HTTPStatus, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", "Bearer")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # a line per call would fill the log; starts and stops are logged by `serve`


def _openapi() -> dict[str, Any]:
    from megatest.server.openapi import description

    return description()


def make_server(state: ServerState, bind: str, port: int = 0) -> ThreadingHTTPServer:
    handler = type("AreaHandler", (Handler,), {"state": state})
    try:
        server = ThreadingHTTPServer((bind, port), handler)
    except OSError as exc:
        raise UsageError(f"cannot listen on {bind}:{port}: {(exc.strerror or str(exc)).lower()}"
                         ) from None
    server.daemon_threads = True  # a client holding a keep-alive connection must not block exit
    return server


def advertised_host(bind: str) -> str:
    """The host clients connect to: the bind address, or this machine's name for all."""
    return packets.this_machine() if bind in ("", "0.0.0.0", "::") else bind


def serve(area: Path, *, bind: str, port: int, itype: str, idle_timeout: float,
          ready: Callable[[packets.Packet], None] | None = None) -> None:
    """Run the area's server until it is idle for `idle_timeout` s or gets SIGTERM/SIGINT."""
    secret = ensure_secret(area)
    state = ServerState(area, itype, secret, idle_timeout)
    server = make_server(state, bind, port)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    try:
        packet = state.publish(advertised_host(bind), server.server_address[1])
        if ready is not None:
            ready(packet)
        while not stop.is_set() and state.tick(state.clock()):
            stop.wait(state.next_wake(state.clock()))
    finally:
        state.withdraw()
        server.shutdown()
        server.server_close()
        state.writers.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
