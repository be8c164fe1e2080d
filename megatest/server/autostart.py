"""Bringing the area's server up: where it runs and how it is started without a wait.

`runs start` calls `bring_up` before its tests start: when no server answers, it starts one
fully detached (a double fork: the server is nobody's child, so neither the runner nor its
keeper waits for it or leaves it a zombie) and goes on at once; the tests' helpers report
through it as soon as its packet is in `.meta/`, and straight to the db until then.

Where: this machine, unless the area names a homehost (`[server] homehost`, else the first
line of `<area>/.homehost`, as the original reads them) that is another machine; then the
server is started there over ssh (`ssh -n -o BatchMode=yes HOST megatest server start ...`),
which assumes what the original's homehost did: the area at the same path on both machines.
"""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Mapping
from pathlib import Path

from megatest.server import client, packets

ENV = "MEGATEST_SERVER_AUTOSTART"  # yes/no: overrides `[server] autostart` (CI, tests)
_NO = ("no", "0", "off", "false")


def wanted(configured: bool, given: bool | None, env: Mapping[str, str]) -> bool:
    """Whether `runs start` brings a server up: its --server/--no-server, else the
    environment's MEGATEST_SERVER_AUTOSTART, else `[server] autostart` (default yes)."""
    if given is not None:
        return given
    value = env.get(ENV)
    if value is not None and value.strip():
        return value.strip().lower() not in _NO
    return configured


def homehost(area: str | os.PathLike, configured: str | None) -> str | None:
    """The machine the area's servers should run on when it is not this one, else None."""
    host = (configured or "").strip() or _dot_homehost(area)
    if not host or is_this_machine(host):
        return None
    return host


def _dot_homehost(area: str | os.PathLike) -> str:
    try:
        with open(os.path.join(os.fspath(area), ".homehost"), encoding="utf-8") as f:
            return f.readline().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def is_this_machine(host: str) -> bool:
    """`host` names this machine: its name (short or with a domain), or one of its
    addresses (loopback included)."""
    name = packets.this_machine()
    short = name.split(".")[0]
    if host in (name, "localhost") or host.split(".")[0] == short and not host[0].isdigit():
        return True
    if host.startswith("127."):
        return True
    try:
        addresses = socket.gethostbyname_ex(name)[2]
    except OSError:
        addresses = []
    return host in addresses


def server_command(area: Path, itype: str, host: str | None) -> list[str]:
    """The argv that starts the area's server: here in the foreground (the double fork has
    detached it already), or on `host` through ssh, where `server start` detaches itself."""
    if host is None:
        return client.server_argv(area, itype)
    # ssh hands its words to the remote shell: one quoted string, so no value is split there
    return ["ssh", "-n", "-o", "BatchMode=yes", host,
            shlex.join(client.server_argv(area, itype, foreground=False))]


def bring_up(area: Path, itype: str = "runner", configured_host: str | None = None) -> bool:
    """Start a server for `area` unless one answers; False when one was already up.
    Returns without waiting for the new server."""
    if client.find_server(area) is not None:
        return False
    command = server_command(area, itype, homehost(area, configured_host))
    spawn_detached(command, area)
    return True


def spawn_detached(command: list[str], area: Path) -> None:
    """Run `command` in a new session as a grandchild, its output appended to
    `<area>/logs/server.log`; returns once the intermediate child has exited."""
    import subprocess

    log_fd = client.open_server_log(area)
    try:
        pid = os.fork()
        if pid == 0:  # the intermediate child: start the server, then leave it to init
            code = 0
            try:
                subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_fd,
                                 stderr=log_fd, start_new_session=True, cwd=area)
            except OSError as exc:
                os.write(log_fd, f"megatest: cannot start a server: {exc}\n".encode())
                code = 1
            os._exit(code)
        os.waitpid(pid, 0)
    finally:
        os.close(log_fd)
