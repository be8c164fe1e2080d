"""RemoteWriter: writes through the server, finds another after a server's death, writes
directly when none is up; the helpers choose it when a server answers."""

from __future__ import annotations

import pytest

from megatest.engine.helpers import open_writer, run_helper
from megatest.errors import UsageError
from megatest.server.remote import RemoteWriter, open_remote_writer
from megatest.store.testwrite import TestWriter
from megatest.store.writes import HeartbeatWrite, StepWrite


def _data(area, test_id):
    with area.store() as store:
        return {d.variable: d.value for d in store.get_test_data(area.run_id, test_id)}


def test_writes_and_a_batch_go_through_the_server(run_area, serve_area):
    served = serve_area()
    build = run_area.ids[("build", "")]
    with RemoteWriter(run_area.root, run_area.run_id, served.packet) as writer:
        writer.add_test_data(build, [{"category": "c", "variable": "x", "value": "1"}])
        with writer.batch():
            writer.add_step(build, "s", "start", "n/a")
            writer.apply([StepWrite(build, "s", "end", "0"), HeartbeatWrite(build, 0.1)])
            writer.set_state_status(build, "COMPLETED", "PASS")
        assert writer.direct_batches == 0
        assert writer.test_id("unit", "a") == run_area.ids[("unit", "a")]
    assert _data(run_area, build) == {"x": 1}
    with run_area.store() as store:
        assert store.get_test(run_area.run_id, build).state == "COMPLETED"
        assert [s.state for s in store.get_steps(run_area.run_id, build)] == ["start", "end"]


def test_a_failed_batch_block_sends_nothing(run_area, serve_area):
    served = serve_area()
    build = run_area.ids[("build", "")]
    with RemoteWriter(run_area.root, run_area.run_id, served.packet) as writer:
        with pytest.raises(RuntimeError), writer.batch():
            writer.set_state_status(build, "COMPLETED", "PASS")
            raise RuntimeError("runner stopped")
    with run_area.store() as store:
        assert store.get_test(run_area.run_id, build).state == "RUNNING"


def test_after_the_servers_death_the_next_server_takes_the_batch(run_area, serve_area):
    first = serve_area()
    build = run_area.ids[("build", "")]
    first.server.shutdown()
    first.server.server_close()  # dead, its packet still there (our own pid: "alive")
    second = serve_area()
    with RemoteWriter(run_area.root, run_area.run_id, first.packet) as writer:
        writer.add_test_data(build, [{"variable": "after", "value": "2"}])
        assert writer.packet.port == second.packet.port and writer.direct_batches == 0
    assert _data(run_area, build) == {"after": 2}


def test_with_no_server_left_the_batch_is_written_directly(run_area, serve_area):
    served = serve_area()
    build = run_area.ids[("build", "")]
    with RemoteWriter(run_area.root, run_area.run_id, served.packet) as writer:
        served.stop()
        writer.add_test_data(build, [{"variable": "v", "value": "3"}])
        assert writer.direct_batches == 1
    assert _data(run_area, build) == {"v": 3}


def test_a_refused_batch_is_one_usage_error(run_area, serve_area):
    served = serve_area()
    with RemoteWriter(run_area.root, run_area.run_id, served.packet) as writer, \
            pytest.raises(UsageError, match="has no test 999"):
        writer.set_state_status(999, "COMPLETED", "PASS")


def test_helpers_write_through_the_server_only_when_one_is_up(run_area, serve_area,
                                                               monkeypatch):
    build = run_area.ids[("build", "")]
    assert open_remote_writer(run_area.root, run_area.run_id) is None
    with open_writer(str(run_area.root), run_area.run_id) as writer:
        assert isinstance(writer, TestWriter)
    served = serve_area()
    with open_writer(str(run_area.root), run_area.run_id) as writer:
        assert isinstance(writer, RemoteWriter)
    env = {"MT_RUN_AREA_HOME": str(run_area.root), "MT_TEST_NAME": "build",
           "MT_RUN_ID": str(run_area.run_id), "MT_TEST_ID": str(build)}
    monkeypatch.delenv("MT_TEST_RUN_DIR", raising=False)
    assert run_helper(["-set-values", ":category", "c", ":variable", "w", ":value", "5",
                       ":expected", "5", ":tol", "0"], env) == 0
    assert served.state.idle_for(served.state.clock()) < served.state.idle_timeout
    assert _data(run_area, build) == {"w": 5}


def test_write_behind_commits_every_change_by_close(run_area, serve_area):
    served = serve_area()
    build = run_area.ids[("build", "")]
    writer = open_remote_writer(run_area.root, run_area.run_id, write_behind=True)
    assert writer.packet.port == served.packet.port
    with writer:
        for n in range(300):
            writer.add_test_data(build, [{"variable": f"v{n}", "value": str(n)}])
        writer.set_state_status(build, "COMPLETED", "PASS")
    assert writer.direct_batches == 0
    assert _data(run_area, build) == {f"v{n}": n for n in range(300)}
    with run_area.store() as store:
        assert store.get_test(run_area.run_id, build).state == "COMPLETED"


def test_write_behind_says_which_write_was_refused_and_keeps_the_others(run_area, serve_area):
    serve_area()
    build = run_area.ids[("build", "")]
    with pytest.raises(UsageError, match="has no test 999"), \
            RemoteWriter(run_area.root, run_area.run_id,
                         open_remote_writer(run_area.root, run_area.run_id).packet,
                         write_behind=True) as writer:
        writer.add_test_data(build, [{"variable": "before", "value": "1"}])
        writer.set_state_status(999, "COMPLETED", "PASS")
        writer.add_test_data(build, [{"variable": "after", "value": "2"}])
    assert _data(run_area, build) == {"before": 1, "after": 2}


def test_a_packet_whose_server_does_not_answer_passes_the_batch_to_the_next(run_area,
                                                                           serve_area):
    import os
    import socket

    from megatest.server import packets

    served = serve_area()
    probe = socket.create_server(("127.0.0.1", 0))
    dead_port = probe.getsockname()[1]
    probe.close()
    now = served.packet.refreshed
    # preferred over the live one (a dashboard's), with a live pid, but nothing listens
    packets.write_packet(run_area.root, packets.Packet(
        "127.0.0.1", dead_port, "dboard", os.getpid(), packets.this_machine(), now, now, now))
    build = run_area.ids[("build", "")]
    with open_remote_writer(run_area.root, run_area.run_id) as writer:
        assert writer.packet.port == dead_port
        writer.add_test_data(build, [{"variable": "x", "value": "7"}])
        assert writer.packet.port == served.packet.port and writer.direct_batches == 0
    assert _data(run_area, build) == {"x": 7}


def test_a_copy_of_the_area_writes_to_its_own_db_not_through_the_originals_server(
        run_area, serve_area, tmp_path_factory):
    import shutil

    served = serve_area()
    copy = tmp_path_factory.mktemp("copy") / "area"
    shutil.copytree(run_area.root, copy)  # `cp -r` while the server runs: .meta/ comes along
    build = run_area.ids[("build", "")]
    with open_remote_writer(copy, run_area.run_id) as writer:
        assert writer.packet.port == served.packet.port  # the copied packet is taken first
        writer.add_test_data(build, [{"variable": "copied", "value": "1"}])
        assert writer.direct_batches == 1
    assert _data(run_area, build) == {}
    from megatest.store import open_store

    with open_store(copy, create=False) as store:
        assert [d.variable for d in store.get_test_data(run_area.run_id, build)] == ["copied"]
    from megatest.server import client

    assert client.find_server(copy) is None  # the original's server answers, and is passed over
    assert client.find_server(run_area.root).packet.port == served.packet.port
