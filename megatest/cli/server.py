"""The area's server: start, stop, list, ping, kill-all."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from megatest.cli.common import AreaOption, check_format, resolve_area
from megatest.errors import UsageError
from megatest.server import packets

app = typer.Typer(no_args_is_help=True)

STOP_WAIT = 10.0  # seconds a stopped server gets to remove its packet and exit


def _bind_of(area: Path, bind: str | None) -> tuple[str, int]:
    """Where to listen: --bind, else `[server] hostname` ("-": every address), else loopback;
    the port from `[server] port`, else one the system picks. `--bind -` (the original's
    `-server -`) is the default."""
    from megatest.config.megatest_config import read_megatest_config

    settings = read_megatest_config(area).server
    chosen = bind if bind not in (None, "", "-") else settings.hostname
    if chosen in (None, ""):
        chosen = "127.0.0.1"
    return ("0.0.0.0" if chosen == "-" else chosen), settings.port or 0


def _idle_timeout(area: Path, given: float | None) -> float:
    if given is not None:
        if given <= 0:
            raise UsageError(f"--idle-timeout {given}: must be more than 0 seconds")
        return given
    from megatest.config.megatest_config import read_megatest_config

    return read_megatest_config(area).server.timeout_seconds


@app.command("start")
def start_cmd(
    ctx: typer.Context,
    area: AreaOption = None,
    foreground: Annotated[bool, typer.Option(
        "--foreground/--detach",
        help="Stay attached (for service managers); default: detach once the server is up.")] = False,
    bind: Annotated[str | None, typer.Option(
        "--bind", help="Address to listen on (default, or -: [server] hostname, else 127.0.0.1).",
        show_default=False)] = None,
    itype: Annotated[str, typer.Option(
        "--type", help="Invocation type of the starter: dboard, runner, other or exec.")] = "other",
    idle_timeout: Annotated[float | None, typer.Option(
        "--idle-timeout", help="Seconds without a call before the server exits "
        "(default: [server] timeout, in hours; 5 minutes when unset).", show_default=False)] = None,
    label: Annotated[str | None, typer.Option(
        "--comment", "-m", hidden=True,
        help="The original's `-m testsuite:NAME` label: accepted, not used.")] = None,
) -> None:
    """Start a server for the area; print its host:port once its packet is in .meta/."""
    root = resolve_area(ctx, area)
    if itype not in packets.INVOCATION_TYPES:
        raise UsageError(f"unknown --type {itype!r}; choose one of "
                         f"{', '.join(packets.INVOCATION_TYPES)}")
    if foreground:
        _serve(root, bind, itype, idle_timeout)
        return
    from megatest.server import client

    _bind_of(root, bind)  # a bad config or --bind is reported here, not in the log
    proc = client.spawn_server(root, itype, bind, idle_timeout)
    packet = client.wait_for_packet(root, proc.pid, lambda: proc.poll() is None)
    if packet is None:
        if proc.poll() is None:
            proc.terminate()
        log = root / "logs" / "server.log"
        raise UsageError(f"the server did not start ({_last_line(log)}); see {log}")
    typer.echo(packet.address())


def _last_line(log: Path) -> str:
    """What a server that failed to start said last (its error line)."""
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1].removeprefix("megatest: error: ") if lines else "no log"


def _serve(root: Path, bind: str | None, itype: str, idle_timeout: float | None) -> None:
    from megatest.server.service import serve

    host, port = _bind_of(root, bind)
    timeout = _idle_timeout(root, idle_timeout)

    def ready(packet: packets.Packet) -> None:
        typer.echo(packet.address())
        # the log of a detached server: one line when it starts
        typer.echo(f"megatest server {os.getpid()} ({itype}) listening on {packet.address()} "
                   f"for {root}; idle timeout {timeout:g} s", err=True)

    serve(root, bind=host, port=port, itype=itype, idle_timeout=timeout, ready=ready)
    typer.echo(f"megatest server {os.getpid()} stopped", err=True)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    area: AreaOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Show each server packet of the area: host, port, type, pid, age, alive or stale."""
    check_format(fmt, ("text", "json"))
    root = resolve_area(ctx, area)
    now = time.time()
    live, stale = packets.read_packets(root, now, clean=False)
    rows = [(p, "alive") for p in packets.ordered(live, now)] + [(p, "stale") for p in stale]
    if fmt == "json":
        typer.echo(json.dumps([{**p.as_dict(), "age": round(now - p.started, 1),
                                "status": status} for p, status in rows], indent=2))
        return
    if not rows:
        typer.echo(f"{packets.meta_dir(root)}: no servers")
    for p, status in rows:
        typer.echo(f"{p.address():<24} {p.itype:<7} pid {p.pid:<8} {p.machine:<16} "
                   f"age {_age(now - p.started):<8} {status}")


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@app.command("ping")
def ping_cmd(
    ctx: typer.Context,
    area: AreaOption = None,
    address: Annotated[str | None, typer.Option(
        "--address", help="Ping this HOST:PORT instead of the server the area would choose.",
        show_default=False)] = None,
) -> None:
    """Ping the area's server (the one a client would choose); exit 1 when none answers."""
    from megatest.server import client
    from megatest.server.secret import read_secret

    root = resolve_area(ctx, area)
    if address is not None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--address {address!r}: expected HOST:PORT")
        target = packets.Packet(host, int(port), "other", 0, "", 0, 0, 0)
        info = client.ping(target, read_secret(root))
        chosen = target if info is not None else None
    else:
        found = client.find_server(root)
        chosen, info = (found.packet, found.info) if found else (None, None)
    if chosen is None or info is None:
        typer.echo(f"megatest: no server answers for {root}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{chosen.address()} pid {info.get('pid')} {info.get('type')} "
               f"up {info.get('uptime')} s")


@app.command("stop")
def stop_cmd(ctx: typer.Context, area: AreaOption = None) -> None:
    """Stop the area's servers on this machine (SIGTERM; each removes its packet)."""
    from megatest.server import client
    from megatest.server.secret import read_secret

    root = resolve_area(ctx, area)
    secret = read_secret(root)
    code = 0
    for packet in client.candidates(root):
        if not _here(packet):
            continue
        info = client.ping(packet, secret)
        if info is None or info.get("pid") != packet.pid:
            # without an answer the pid may not be a server of ours any more
            typer.echo(f"{packet.address()} pid {packet.pid}: not answering; "
                       "`megatest server kill-all` ends it", err=True)
            code = 1
            continue
        if _terminate(packet, signal.SIGTERM):
            typer.echo(f"stopped {packet.address()} pid {packet.pid}")
        else:
            typer.echo(f"{packet.address()} pid {packet.pid}: still running after "
                       f"{STOP_WAIT:g} s", err=True)
            code = 1
    raise typer.Exit(code)


@app.command("kill-all")
def kill_all_cmd(ctx: typer.Context, area: AreaOption = None) -> None:
    """End every server of the area on this machine: SIGTERM, then SIGKILL those still
    there after a grace time; their packets are removed."""
    from megatest.server import client

    root = resolve_area(ctx, area)
    for packet in client.candidates(root):
        if not _here(packet):
            continue
        how = "stopped"
        if not _terminate(packet, signal.SIGTERM):
            _terminate(packet, signal.SIGKILL)
            how = "killed"
        packets.remove_quietly(packet.path)
        typer.echo(f"{how} {packet.address()} pid {packet.pid}")


def _here(packet: packets.Packet) -> bool:
    """A server on this machine; others are named, not signalled."""
    if packet.machine == packets.this_machine():
        return True
    typer.echo(f"{packet.address()} pid {packet.pid} runs on {packet.machine}; "
               "run this command there", err=True)
    return False


def _terminate(packet: packets.Packet, sig: signal.Signals) -> bool:
    """Send `sig` and wait (bounded) until the process is gone; a server ended by SIGTERM
    has removed its packet by then."""
    try:
        os.kill(packet.pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + STOP_WAIT
    while packets.pid_alive(packet.pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
