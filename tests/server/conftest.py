"""A real area server on loopback over an area with one run of three tests."""

from __future__ import annotations

import threading

import pytest

from megatest.server.secret import ensure_secret
from megatest.server.service import ServerState, make_server
from megatest.store import open_store


class Area:
    def __init__(self, root, run_id, ids):
        self.root, self.run_id, self.ids = root, run_id, ids

    def store(self):
        return open_store(self.root, create=False)


@pytest.fixture
def run_area(tmp_path):
    with open_store(tmp_path, fields=[("SYSTEM", "TEXT")]) as store:
        run_id = store.get_or_create_run({"SYSTEM": "ubuntu"}, "nightly")
        ids = store.register_tests(run_id, [("build", ""), ("unit", ""), ("unit", "a"),
                                            ("unit", "b")])
        store.set_test_state_status(run_id, ids[("build", "")], "RUNNING", "n/a")
    return Area(tmp_path, run_id, ids)


class Served:
    """A server in this process: `stop()` it to simulate its death between calls."""

    def __init__(self, root):
        self.secret = ensure_secret(root)
        self.state = ServerState(root, "runner", self.secret, idle_timeout=300)
        self.server = make_server(self.state, "127.0.0.1")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.packet = self.state.publish("127.0.0.1", self.server.server_address[1])

    def stop(self):
        self.state.withdraw()
        self.server.shutdown()
        self.server.server_close()
        self.state.writers.close()


@pytest.fixture
def serve_area(run_area):
    servers = []

    def start():
        servers.append(Served(run_area.root))
        return servers[-1]

    yield start
    for served in servers:
        if served.state.packet is not None:
            served.stop()
