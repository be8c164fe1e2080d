"""`megatest server ...` end to end: real processes, a real HTTP server, a temp area.

The only waits are bounded polls for something the server does on its own (exit, remove
its packet); nothing here measures time."""

from __future__ import annotations

import http.client
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from megatest.server import packets
from tests.e2e.conftest import BOUND, wait_for

MEGATEST = str(Path(sys.executable).with_name("megatest"))




def _packets(root):
    return packets.read_packets(root, time.time(), clean=False)[0]


def _get(address: str, path: str, secret: str | None) -> tuple[int, object]:
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {secret}"} if secret else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture
def area(make_area):
    runner = make_area("fullrun")
    yield runner
    # whatever a test left running goes
    for packet in _packets(runner.root):
        try:
            os.kill(packet.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _start(area, *more: str) -> tuple[str, packets.Packet]:
    proc = area.mt("server", "start", *more, check=0)
    address = proc.stdout.strip()
    [packet] = _packets(area.root)
    assert packet.address() == address
    return address, packet


def test_started_server_answers_with_the_secret_only(area):
    address, packet = _start(area)
    assert address.startswith("127.0.0.1:")  # loopback unless told otherwise
    secret_file = area.root / ".meta" / "secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    status, info = _get(address, "/ping", secret)
    assert status == 200
    assert (info["area"], info["pid"], info["type"]) == (str(area.root), packet.pid, "other")
    assert _get(address, "/ping", None) == (401, {"error": "unauthorized"})
    assert _get(address, "/runs", "not-the-secret") == (401, {"error": "unauthorized"})
    assert _get(address, "/runs", secret) == (200, [])


def test_runs_endpoint_lists_the_runs_of_the_store(area):
    area.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r1", "--testpatt", "zero")
    address, _ = _start(area)
    secret = (area.root / ".meta" / "secret").read_text().strip()
    status, runs = _get(address, "/runs", secret)
    assert status == 200 and [r["runname"] for r in runs] == ["r1"]


def test_list_ping_and_stop(area):
    address, packet = _start(area, "--type", "runner")
    listed = area.mt("server", "list", check=0).stdout
    assert address in listed and "runner" in listed and "alive" in listed
    [row] = json.loads(area.mt("server", "list", "--format", "json", check=0).stdout)
    assert (row["pid"], row["type"], row["status"]) == (packet.pid, "runner", "alive")
    pinged = area.mt("server", "ping", check=0).stdout
    assert pinged.startswith(f"{address} pid {packet.pid} runner")
    stopped = area.mt("server", "stop", check=0)
    assert f"stopped {address}" in stopped.stdout
    assert not os.path.exists(packet.path) and not packets.pid_alive(packet.pid)
    gone = area.mt("server", "ping", check=1)
    assert gone.stdout == "" and gone.stderr.strip() == f"megatest: no server answers for {area.root}"


def test_sigterm_removes_the_packet(area):
    _address, packet = _start(area)
    os.kill(packet.pid, signal.SIGTERM)
    wait_for(lambda: not packets.pid_alive(packet.pid))
    assert not os.path.exists(packet.path)


def test_idle_timeout_ends_the_server(area):
    _address, packet = _start(area, "--idle-timeout", "0.2")
    wait_for(lambda: not packets.pid_alive(packet.pid))
    assert _packets(area.root) == []


def test_foreground_stays_attached_until_sigint(area):
    proc = subprocess.Popen([MEGATEST,
                             "server", "start", "--foreground"], cwd=area.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        address = proc.stdout.readline().strip()
        [packet] = _packets(area.root)
        assert packet.address() == address and packet.pid == proc.pid
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=BOUND) == 0
        assert not os.path.exists(packet.path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_all_and_legacy_flags(area):
    address, packet = _start(area)
    assert address in area.mt("-list-servers", check=0).stdout
    assert area.mt("-ping", check=0).stdout.startswith(address)
    killed = area.mt("-kill-servers", check=0)
    assert f"stopped {address} pid {packet.pid}" in killed.stdout
    assert _packets(area.root) == [] and not packets.pid_alive(packet.pid)


def test_the_originals_own_server_command_line_starts_one(area):
    # what the original's server:run builds: -server - [-daemonize] -m testsuite:NAME
    started = area.mt("-server", "-", "-daemonize", "-m", "testsuite:fullrun", check=0)
    [packet] = _packets(area.root)
    assert started.stdout.strip() == packet.address()
    area.mt("-kill-servers", check=0)


@pytest.mark.parametrize("mode", ["--foreground", "--detach"])
def test_bad_bind_address_is_one_line(area, mode):
    res = area.mt("server", "start", mode, "--bind", "no.such.host.invalid")
    assert res.returncode != 0 and res.stdout == ""
    [line] = res.stderr.strip().splitlines()
    assert "cannot listen on no.such.host.invalid:0" in line
    assert _packets(area.root) == []
