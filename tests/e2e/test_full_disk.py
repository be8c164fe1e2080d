"""A run whose disk fills up mid-way, on a real (small tmpfs) file system: the runner stops
launching, keeps what it knows, and once space is freed writes it and finishes the run."""

from __future__ import annotations

import collections
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import MEGATEST, wait_for

TESTS = 4
# each test logs its start outside the small disk, then waits for its go file
STEP = ('echo "$MT_TEST_NAME" >> "$RAN_LOG"; '
        'until [ -e "$GATE/$MT_TEST_NAME" ]; do sleep 0.05; done')



@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def make_area(root: Path) -> Path:
    area = root / "area"
    (area / "runs").mkdir(parents=True)
    (area / "megatest.config").write_text(
        "[fields]\nSYSTEM TEXT\n\n"
        f"[setup]\nmax_concurrent_jobs {TESTS}\nlinktree #{{getenv MT_RUN_AREA_HOME}}/lt\n\n"
        "[disks]\ndisk0 #{getenv MT_RUN_AREA_HOME}/runs\n")
    (area / "runconfigs.config").write_text("[default]\n\n[a]\n")
    for i in range(TESTS):
        test = area / "tests" / f"t{i}"
        test.mkdir(parents=True)
        (test / "testconfig").write_text(f"[ezsteps]\nwork {STEP}\n")
    return area


def fill(path: Path) -> None:
    """Write `path` until the file system is full."""
    chunk = b"\0" * (1 << 16)
    with open(path, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def test_a_full_disk_mid_run_loses_nothing_and_the_run_finishes_once_space_is_freed(
        small_disk, tmp_path):
    area = make_area(small_disk)
    gate = tmp_path / "gate"
    gate.mkdir()
    ran_log = tmp_path / "ran.log"
    env = {**os.environ, "GATE": str(gate), "RAN_LOG": str(ran_log)}
    out_path = tmp_path / "out.txt"
    with open(out_path, "w") as out:
        runner = subprocess.Popen([MEGATEST, "runs", "start", "--target", "a", "--runname", "r"],
                                  cwd=area, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: ran_log.exists() and len(ran_log.read_text().split()) == TESTS, timeout=60)
        fill(small_disk / "filler")
        for i in range(TESTS):  # every test ends while nothing can be written
            (gate / f"t{i}").touch()
        wait_for(lambda: "no more tests start" in out_path.read_text(), timeout=60)
        (small_disk / "filler").unlink()  # space again
        assert runner.wait(timeout=120) == 0, out_path.read_text()
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    output = out_path.read_text()
    assert "no space left on the device holding" in output  # said once, naming the place
    assert "the store takes writes again" in output
    assert "Traceback" not in output
    table = subprocess.run([MEGATEST, "query", "tests", "--target", "a", "--runname", "r",
                            "--format", "json"], cwd=area, capture_output=True, text=True,
                           check=True).stdout
    rows = {r["test"]: (r["state"], r["status"]) for r in json.loads(table)}
    assert rows == {f"t{i}": ("COMPLETED", "PASS") for i in range(TESTS)}
    assert collections.Counter(ran_log.read_text().split()) == {f"t{i}": 1 for i in range(TESTS)}
