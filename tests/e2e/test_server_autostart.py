"""`runs start` brings the area's server up, as a new user meets it: the run's tests report
through it, `server list` shows it, and its packet goes when it stops. Also: --no-server,
and a `.homehost` naming another machine (reached through ssh).

The only waits are bounded polls for what the server does on its own; nothing is timed."""

from __future__ import annotations

import json
import os
import signal
import stat
import time

import pytest

from megatest.server import client, packets
from megatest.server.secret import read_secret
from tests.e2e.conftest import wait_for

ON = {**os.environ, "MEGATEST_SERVER_AUTOSTART": "yes"}


def _live(root):
    return packets.read_packets(root, time.time(), clean=False)[0]




@pytest.fixture
def served(make_area):
    runner = make_area("served")
    yield runner
    for packet in _live(runner.root):  # whatever a test left running goes
        try:
            os.kill(packet.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_run_brings_a_server_up_and_its_tests_report_through_it(served):
    assert not (served.root / ".meta").exists()
    served.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r1", env=ON, check=0)
    assert {k: v for k, v in served.table("ubuntu/v1", "r1").items() if "/" in k} == {
        f"report/{n}": ("COMPLETED", "PASS") for n in (1, 2, 3)}
    [packet] = _live(served.root)
    assert packet.itype == "runner"
    info = client.ping(packet, read_secret(served.root))
    assert info is not None and info["batches"] >= 3  # the three items' values came this way
    listed = json.loads(served.mt("server", "list", "--format", "json", check=0).stdout)
    assert [(s["type"], s["status"]) for s in listed] == [("runner", "alive")]
    assert listed[0]["age"] >= 0
    assert "runner" in served.mt("server", "list", check=0).stdout
    # a second run finds it up and starts no other
    served.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r2", env=ON, check=0)
    assert [p.pid for p in _live(served.root)] == [packet.pid]
    served.mt("server", "stop", check=0)
    wait_for(lambda: not _live(served.root) and not packets.pid_alive(packet.pid))
    assert not list((served.root / ".meta").glob("*.pkt"))


def test_no_server_when_the_run_or_the_area_says_so(served):
    served.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r1", "--no-server",
              env=ON, check=0)
    config = served.root / "megatest.config"
    config.write_text(config.read_text() + "autostart no\n")
    unset = {k: v for k, v in os.environ.items() if k != "MEGATEST_SERVER_AUTOSTART"}
    served.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r2", env=unset, check=0)
    assert not _live(served.root)
    assert served.table("ubuntu/v1", "r2")["report/2"] == ("COMPLETED", "PASS")


def test_a_homehost_elsewhere_is_reached_through_ssh(served, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "ssh-calls"
    # a stand-in for ssh that notes its arguments and runs the remote command here
    fake = bin_dir / "ssh"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {calls}\n'
                    'for last; do :; done\nexec sh -c "$last"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (served.root / ".homehost").write_text("farmhead.example.com\n")
    env = {**ON, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    served.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r1", env=env, check=0)
    wait_for(lambda: bool(_live(served.root)))
    words = calls.read_text().splitlines()
    assert words[:4] == ["-n", "-o", "BatchMode=yes", "farmhead.example.com"]
    assert "server start" in words[4] and str(served.root) in words[4]
    assert "--foreground" not in words[4]  # the remote `server start` detaches itself
