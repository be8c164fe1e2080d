"""Server packets: one small file per running server in `<area>/.meta/`.

A packet is one card a line, a one-letter key, a space and a value:

    D 1765009000.25      creation time of the packet (epoch seconds)
    H 127.0.0.1          host to connect to
    I 4242               the server's pid
    M build7             the machine the server runs on (to check its pid)
    P 40123              port
    R 1765009010.31      last refresh (epoch seconds)
    S 1765008990.02      when the server started (its run duration is counted from here)
    T runner             invocation type of the process that started it
    Z 3f1c...            sha1 of every line above; the file is named `<sha1>.pkt`

Kept to the standard library (no dataclasses, no typing): clients read packets on every
helper call.
"""

from __future__ import annotations

import os

from megatest.procstat import STATE, stat_fields

REFRESH_INTERVAL = 10.0  # seconds between a server's refreshes of its packet
STALE_AFTER = 3 * REFRESH_INTERVAL  # no refresh for three intervals: the server is gone
SUFFIX = ".pkt"
# the order clients prefer servers in: one a dashboard started lives longest
INVOCATION_TYPES = ("dboard", "runner", "other", "exec")
_MODE = 0o644  # readable by the area's group and others; never writable by them


class Packet:
    """One server's packet, as read from (or to be written into) `.meta/`."""

    __slots__ = ("host", "port", "itype", "pid", "machine", "started", "created", "refreshed",
                 "sha1", "path")

    def __init__(self, host: str, port: int, itype: str, pid: int, machine: str,
                 started: float, created: float, refreshed: float, sha1: str = "",
                 path: str = "") -> None:
        self.host, self.port, self.itype, self.pid = host, port, itype, pid
        self.machine, self.started, self.created, self.refreshed = machine, started, created, refreshed
        self.sha1, self.path = sha1, path

    def body(self) -> str:
        """Every card but Z, in key order, newline-terminated: what Z hashes."""
        cards = {"D": _num(self.created), "H": self.host, "I": str(self.pid), "M": self.machine,
                 "P": str(self.port), "R": _num(self.refreshed), "S": _num(self.started),
                 "T": self.itype}
        return "".join(f"{key} {value}\n" for key, value in sorted(cards.items()))

    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def as_dict(self) -> dict:
        return {"host": self.host, "port": self.port, "type": self.itype, "pid": self.pid,
                "machine": self.machine, "started": self.started, "created": self.created,
                "refreshed": self.refreshed, "sha1": self.sha1, "path": self.path}


def _num(value: float) -> str:
    return f"{value:.2f}"


def _sha1(text: str) -> str:
    # CPython's own sha1 (`_sha1`): `hashlib` would load OpenSSL's bindings first, 3-5 ms
    # of every helper call that reads a packet
    try:
        from _sha1 import sha1
    except ImportError:  # an interpreter without it
        from hashlib import sha1
    return sha1(text.encode()).hexdigest()


def this_machine() -> str:
    """This machine's name (what socket.gethostname says, without importing socket)."""
    return os.uname().nodename


def meta_dir(area: str | os.PathLike) -> str:
    return os.path.join(os.fspath(area), ".meta")


def write_packet(area: str | os.PathLike, packet: Packet, *, make_folder: bool = True) -> Packet:
    """Write `packet` atomically (a temp file renamed into place) and set its sha1 and path.
    Without `make_folder`, a missing `.meta/` (the area was removed) is a FileNotFoundError."""
    folder = meta_dir(area)
    if make_folder:
        os.makedirs(folder, mode=0o755, exist_ok=True)
    body = packet.body()
    sha1 = _sha1(body)
    final = os.path.join(folder, sha1 + SUFFIX)
    temp = os.path.join(folder, f".{sha1}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _MODE)
    try:
        os.fchmod(fd, _MODE)  # whatever the umask: never group/other writable
        os.write(fd, f"{body}Z {sha1}\n".encode())
    finally:
        os.close(fd)
    os.replace(temp, final)
    packet.sha1, packet.path = sha1, final
    return packet


def parse_packet(text: str, name: str) -> Packet | None:
    """The packet in `text` (the file named `name`), or None when it is damaged: a missing
    card, a bad number, or a Z card that does not match the rest or the name."""
    body, sep, zline = text.rstrip("\n").rpartition("\n")
    if not sep or not zline.startswith("Z "):
        return None
    sha1 = zline[2:].strip()
    body += "\n"
    if _sha1(body) != sha1 or name != sha1 + SUFFIX:
        return None
    cards = {}
    for line in body.splitlines():
        key, space, value = line.partition(" ")
        if len(key) != 1 or not space:
            return None
        cards[key] = value
    try:
        return Packet(cards["H"], int(cards["P"]), cards["T"], int(cards["I"]), cards["M"],
                      float(cards["S"]), float(cards["D"]), float(cards["R"]), sha1)
    except (KeyError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """A process `pid` runs on this machine (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    fields = stat_fields(pid)
    return fields is None or fields[STATE] != b"Z"  # unreadable: kill() said it exists


def is_stale(packet: Packet, now: float, machine: str | None = None, alive=pid_alive) -> bool:
    """No refresh for three intervals, or its pid is dead on this machine."""
    if now - packet.refreshed > STALE_AFTER:
        return True
    return packet.machine == (machine or this_machine()) and not alive(packet.pid)


def read_packets(area: str | os.PathLike, now: float, *, clean: bool = True,
                 machine: str | None = None, alive=pid_alive) -> tuple[list[Packet], list[Packet]]:
    """(live, stale) packets of the area. With `clean`, stale packets are removed, and so are
    damaged files and leftover temp files not touched for three intervals; a damaged packet
    is never returned."""
    folder = meta_dir(area)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return [], []
    live: list[Packet] = []
    stale: list[Packet] = []
    machine = machine or this_machine()
    for name in names:
        if not (name.endswith(SUFFIX) or name.endswith(".tmp")):
            continue  # the secret, logs, anything else
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            mtime = os.stat(path).st_mtime
        except OSError:
            continue  # removed meanwhile
        packet = parse_packet(text, name) if name.endswith(SUFFIX) else None
        if packet is None:
            if clean and now - mtime > STALE_AFTER:
                remove_quietly(path)
            continue
        packet.path = path
        if is_stale(packet, now, machine, alive):
            stale.append(packet)
            if clean:
                remove_quietly(path)
        else:
            live.append(packet)
    return live, stale


def preference(packet: Packet, now: float) -> tuple:
    """Sort key: invocation type (dboard first), then shortest run, then sha1."""
    try:
        rank = INVOCATION_TYPES.index(packet.itype)
    except ValueError:
        rank = len(INVOCATION_TYPES)
    return rank, now - packet.started, packet.sha1


def ordered(packets: list[Packet], now: float) -> list[Packet]:
    return sorted(packets, key=lambda p: preference(p, now))


def remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
