"""The server's keep-alive loop (injected clock) and its HTTP answers (a real server)."""

import http.client
import json
import os
import stat
import threading

import pytest

from megatest.errors import UsageError
from megatest.server import client, packets
from megatest.server.secret import ensure_secret, read_secret, secret_path
from megatest.server.service import ServerState, make_server


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def _names(area):
    return sorted(n for n in os.listdir(area / ".meta") if n.endswith(".pkt"))


def test_packet_is_refreshed_every_interval_under_a_new_name(tmp_path):
    clock = Clock()
    state = ServerState(tmp_path, "runner", "s3cret", idle_timeout=300, clock=clock)
    first = state.publish("127.0.0.1", 4000)
    clock.now += packets.REFRESH_INTERVAL - 1
    assert state.tick(clock()) and _names(tmp_path) == [os.path.basename(first.path)]
    clock.now += 1
    assert state.tick(clock())
    [name] = _names(tmp_path)
    assert name != os.path.basename(first.path)
    [back], _ = packets.read_packets(tmp_path, clock(), alive=lambda pid: True)
    assert back.refreshed == clock() and back.started == first.started


def test_idle_timeout_ends_the_loop_and_a_call_postpones_it(tmp_path):
    clock = Clock()
    state = ServerState(tmp_path, "other", "s3cret", idle_timeout=60, clock=clock)
    clock.now += 59
    state.called()
    clock.now += 59
    assert state.tick(clock())
    assert state.next_wake(clock()) == 1
    clock.now += 1
    assert not state.tick(clock())


def test_a_server_whose_area_was_removed_stops_and_makes_nothing_again(tmp_path):
    import shutil

    area = tmp_path / "area"
    area.mkdir()
    clock = Clock()
    state = ServerState(area, "runner", "s3cret", idle_timeout=300, clock=clock)
    state.publish("127.0.0.1", 4000)
    shutil.rmtree(area)
    clock.now += packets.REFRESH_INTERVAL
    assert not state.tick(clock())
    state.withdraw()
    assert not area.exists()


def test_withdraw_removes_the_packet(tmp_path):
    state = ServerState(tmp_path, "other", "s3cret", idle_timeout=60, clock=Clock())
    state.publish("127.0.0.1", 4000)
    state.withdraw()
    assert _names(tmp_path) == []


@pytest.fixture
def served(tmp_path):
    """A real server for an area with no database yet, on loopback."""
    secret = ensure_secret(tmp_path)
    state = ServerState(tmp_path, "dboard", secret, idle_timeout=300)
    server = make_server(state, "127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    packet = state.publish("127.0.0.1", server.server_address[1])
    yield packet, secret
    server.shutdown()
    server.server_close()


def _request(packet, method, path, headers):
    conn = http.client.HTTPConnection(packet.host, packet.port, timeout=5)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_ping_answers_with_the_secret(served, tmp_path):
    packet, secret = served
    status, info = client.call(packet, secret, "/ping")
    assert status == 200
    assert (info["area"], info["pid"], info["type"]) == (str(tmp_path), os.getpid(), "dboard")
    assert info["uptime"] >= 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "Basic x"}])
@pytest.mark.parametrize("method,path", [("GET", "/ping"), ("GET", "/runs"), ("GET", "/nothing"),
                                         ("POST", "/runs"), ("DELETE", "/ping")])
def test_every_call_without_the_secret_gets_401_and_nothing_else(served, headers, method, path):
    packet, _ = served
    assert _request(packet, method, path, headers) == (401, {"error": "unauthorized"})


def test_runs_of_an_area_without_a_database_is_an_empty_list(served):
    packet, secret = served
    assert client.call(packet, secret, "/runs") == (200, [])


def test_unknown_endpoint_and_writes_are_refused(served):
    packet, secret = served
    auth = {"Authorization": f"Bearer {secret}"}
    assert _request(packet, "GET", "/sql", auth)[0] == 404
    assert _request(packet, "POST", "/runs", auth)[0] == 405


def test_find_server_skips_a_packet_that_does_not_answer(served, tmp_path):
    packet, _ = served
    # a dboard packet (preferred) whose port nobody listens on
    dead = packets.Packet("127.0.0.1", 1, "dboard", os.getpid(), packets.this_machine(),
                          packet.started, packet.created, packet.refreshed)
    packets.write_packet(tmp_path, dead)
    found = client.find_server(tmp_path)
    assert found is not None and found.packet.port == packet.port


def test_secret_is_created_owner_only_and_kept(tmp_path):
    first = ensure_secret(tmp_path)
    assert stat.S_IMODE(os.stat(secret_path(tmp_path)).st_mode) == 0o600
    assert len(first) >= 32 and ensure_secret(tmp_path) == first


def test_a_secret_others_can_read_is_refused(tmp_path):
    ensure_secret(tmp_path)
    os.chmod(secret_path(tmp_path), 0o644)
    with pytest.raises(UsageError, match="readable by others"):
        read_secret(tmp_path)
