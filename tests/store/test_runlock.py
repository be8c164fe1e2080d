"""One runner per run: the lock a runner holds, and how others see whether it is alive."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from megatest.errors import UsageError
from megatest.store.runlock import RunLock, runner_alive

HOLD = textwrap.dedent("""
    import sys, time
    from megatest.store.runlock import RunLock
    with RunLock(sys.argv[1], 7):
        print("held", flush=True)
        time.sleep(60)
    """)


def test_a_lock_is_alive_while_held_and_dead_once_released(tmp_path):
    assert not runner_alive(tmp_path, 7)  # never run
    with RunLock(tmp_path, 7) as lock:
        assert runner_alive(tmp_path, 7)
        assert lock.path.read_text().strip().isdigit()  # the holder's pid, for messages
        assert not runner_alive(tmp_path, 8)
    assert not runner_alive(tmp_path, 7)  # the file stays, nobody holds it


def test_a_killed_holder_leaves_the_run_free(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert runner_alive(tmp_path, 7)
        with pytest.raises(UsageError, match=rf"already being run .*pid {holder.pid}"):
            RunLock(tmp_path, 7).acquire()
    finally:
        holder.kill()
        holder.wait()
    assert not runner_alive(tmp_path, 7)  # SIGKILL: the kernel dropped the lock
    with RunLock(tmp_path, 7):
        pass
