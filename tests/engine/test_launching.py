"""Finding a dead runner's leftover test processes from /proc."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from megatest.engine.launching import leftover_processes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_leftover_test_processes_are_found_by_their_environment(tmp_path):
    env = {
        **os.environ,
        "MT_RUN_AREA_HOME": str(tmp_path),
        "MT_TARGET": "a/b",
        "MT_RUNNAME": "r",
        "MT_TEST_NAME": "t",
        "MT_ITEMPATH": "x/1",
    }
    child = subprocess.Popen(["sleep", "30"], env=env, start_new_session=True)
    try:
        found = leftover_processes(str(tmp_path), "a/b", "r")
        assert found == {("t", "x/1"): {child.pid}}
        assert leftover_processes(str(tmp_path), "a/b", "other") == {}
    finally:
        child.kill()
        child.wait()
