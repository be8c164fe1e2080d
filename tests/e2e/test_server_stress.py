"""The server's done-means stress test: 64 running tests, each writing 25 values with
`megatest -set-values` (a process per value) through the area's server, while the server is
SIGKILLed in the middle and a new one started: every value is in the db, no client failed
(the size: see VALUES).

The only waits are bounded polls (the server's packet, the values reaching the db); nothing
here measures time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from megatest.server import client, packets
from megatest.store import open_store

MEGATEST = str(Path(sys.executable).with_name("megatest"))
# The size: 64 tests x 25 values, 1,600 helper processes (about 80 s on 2 cores);
# MT_STRESS_VALUES=N runs a smaller one while working on the server.
TESTS, VALUES = 64, int(os.environ.get("MT_STRESS_VALUES", "25"))
BOUND = 120.0  # seconds: a safety net for the polls, never a measured duration
# one running test: its values one helper process each, as a test's script writes them
SCRIPT = """
i=1
while [ $i -le "$VALUES" ]; do
  "$MT_MEGATEST" -set-values :category stress :variable "v$i" :value "$i" :expected "$i" \
      :tol 0 || exit 1
  i=$((i + 1))
done
"""


def _start_server(root: Path) -> subprocess.Popen:
    code = ("import sys; from pathlib import Path; from megatest.server.service import serve; "
            "serve(Path(sys.argv[1]), bind='127.0.0.1', port=0, itype='runner', "
            "idle_timeout=300)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(root)], start_new_session=True)
    packet = client.wait_for_packet(root, proc.pid, lambda: proc.poll() is None, BOUND)
    assert packet is not None, "the server did not write its packet"
    return proc


def _values_in_db(root: Path, run_id: int) -> int:
    with open_store(root, create=False) as store:
        return sum(t.pass_count for t in store.get_tests(run_id))


def _wait_for_progress(root: Path, run_id: int, count: int, clients: list) -> int:
    """Poll (bounded) until `count` values are in the db, or every client has ended."""
    deadline = time.monotonic() + BOUND
    while (found := _values_in_db(root, run_id)) < count and time.monotonic() < deadline:
        if all(proc.poll() is not None for proc in clients):
            break
        time.sleep(0.05)
    return found


def test_every_value_survives_a_server_killed_mid_run(tmp_path):
    with open_store(tmp_path, fields=[("SYSTEM", "TEXT")]) as store:
        run_id = store.get_or_create_run({"SYSTEM": "stress"}, "r1")
        ids = store.register_tests(run_id, [(f"t{n:02d}", "") for n in range(TESTS)])
    first = _start_server(tmp_path)
    clients = []
    for (name, _item), test_id in ids.items():
        env = {**os.environ, "MT_RUN_AREA_HOME": str(tmp_path), "MT_TEST_NAME": name,
               "MT_RUN_ID": str(run_id), "MT_TEST_ID": str(test_id), "MT_MEGATEST": MEGATEST,
               "VALUES": str(VALUES)}
        env.pop("MT_TEST_RUN_DIR", None)
        clients.append(subprocess.Popen(["sh", "-c", SCRIPT], env=env, stderr=subprocess.PIPE,
                                        text=True))
    second = None
    try:
        # a quarter of the values in: the server dies without a word, a new one comes up
        quarter = TESTS * VALUES // 4
        assert quarter <= _wait_for_progress(tmp_path, run_id, quarter, clients) < TESTS * VALUES
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        second = _start_server(tmp_path)
        failures = []
        for proc in clients:
            _out, err = proc.communicate(timeout=BOUND)
            if proc.returncode != 0:
                failures.append(err.strip())
        assert failures == []
        assert _values_in_db(tmp_path, run_id) == TESTS * VALUES
        with open_store(tmp_path, create=False) as store:
            for test_id in ids.values():
                rows = store.get_test_data(run_id, test_id)
                assert sorted(int(r.value) for r in rows) == list(range(1, VALUES + 1))
        # the new server took writes after the kill: its packet is the one left
        assert [p.pid for p in packets.read_packets(tmp_path, time.time())[0]] == [second.pid]
    finally:
        for proc in [*clients, first, *([second] if second else [])]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
