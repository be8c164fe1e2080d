"""Find the area's server: read the packets, drop stale ones, ping in order of preference;
start one when there is none. Standard library only (no server imports): the test helpers
will call this on every write."""

from __future__ import annotations

import os
import time

from megatest.server import packets
from megatest.server.secret import read_secret

TYPE_CHECKING = False  # not typing's: it costs the helpers' calls several ms
if TYPE_CHECKING:
    import subprocess

PING_TIMEOUT = 2.0  # seconds: a server on this machine or the farm answers in milliseconds
START_WAIT = 10.0  # the TODO's "wait 5-10 seconds and look again", as a bound on polling
POLL_EVERY = 0.05


class Found:
    """A server that answered: its packet and what /ping said."""

    __slots__ = ("packet", "info")

    def __init__(self, packet: packets.Packet, info: dict) -> None:
        self.packet, self.info = packet, info


def call(packet: packets.Packet, secret: str | None, path: str,
         timeout: float = PING_TIMEOUT) -> tuple[int, object]:
    """GET `path` from the server of `packet`: (status, decoded JSON body). ConnectionFailed
    when it cannot be had; ValueError when the body is not JSON."""
    import json

    from megatest.server.connection import Connection

    conn = Connection(packet.host, packet.port, timeout)
    try:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        status, body = conn.request("GET", path, headers)
        return status, json.loads(body) if body else None
    finally:
        conn.close()


def ping(packet: packets.Packet, secret: str | None, timeout: float = PING_TIMEOUT) -> dict | None:
    """What the server answers to /ping, or None when it does not (down, not ours, refused)."""
    try:
        status, info = call(packet, secret, "/ping", timeout)
    except (OSError, ValueError):  # ConnectionFailed is an OSError
        return None
    return info if status == 200 and isinstance(info, dict) else None


def candidates(area: str | os.PathLike, now: float | None = None) -> list[packets.Packet]:
    """The area's live packets, best first; stale and damaged ones are removed."""
    now = time.time() if now is None else now
    live, _stale = packets.read_packets(area, now)
    return packets.ordered(live, now)


def find_server(area: str | os.PathLike, now: float | None = None) -> Found | None:
    """The first server, in order of preference, that answers a ping for this area. (A copy
    of an area made while its server ran holds that server's packets and secret: the
    original's server answers, and is passed over.)"""
    secret = read_secret(area)
    if secret is None:
        return None  # no server was ever started here
    real = os.path.realpath(area)
    for packet in candidates(area, now):
        info = ping(packet, secret)
        if info is not None and os.path.realpath(str(info.get("area", real))) == real:
            return Found(packet, info)
    return None


def server_argv(area: str | os.PathLike, itype: str, *, foreground: bool = True,
                bind: str | None = None, idle_timeout: float | None = None) -> list[str]:
    """The command line that starts the area's server with this process's own program."""
    from megatest.selfpath import megatest_command

    args = [*megatest_command(), "server", "start", "--area", os.fspath(area), "--type", itype]
    if foreground:
        args.append("--foreground")
    if bind is not None:
        args += ["--bind", bind]
    if idle_timeout is not None:
        args += ["--idle-timeout", str(idle_timeout)]
    return args


def open_server_log(area: str | os.PathLike) -> int:
    """`<area>/logs/server.log` opened for appending (made when missing): where a detached
    server's output goes."""
    logs = os.path.join(os.fspath(area), "logs")
    os.makedirs(logs, exist_ok=True)
    return os.open(os.path.join(logs, "server.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                   0o644)


def spawn_server(area: str | os.PathLike, itype: str = "other", bind: str | None = None,
                 idle_timeout: float | None = None) -> subprocess.Popen:
    """Start `megatest server start --foreground` in its own session, detached from this
    process's terminal and signals; what it says goes to `<area>/logs/server.log`."""
    import subprocess

    log = open_server_log(area)
    try:
        return subprocess.Popen(server_argv(area, itype, bind=bind, idle_timeout=idle_timeout),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, cwd=area)
    finally:
        os.close(log)


def wait_for_packet(area: str | os.PathLike, pid: int, alive, wait: float = START_WAIT,
                    clock=time.monotonic, sleep=time.sleep) -> packets.Packet | None:
    """Poll `.meta/` (bounded by `wait` s) until the server `pid` has written its packet;
    None when `alive()` says it ended first, or the time is up."""
    deadline = clock() + wait
    while True:
        for packet in packets.read_packets(area, time.time(), clean=False)[0]:
            if packet.pid == pid:
                return packet
        if not alive() or clock() >= deadline:
            return None
        sleep(POLL_EVERY)
