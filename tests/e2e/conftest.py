"""End-to-end helpers: copy an example area to a temp dir and drive the real CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

AREAS = Path(__file__).resolve().parents[1] / "areas"
MEGATEST = str(Path(sys.executable).with_name("megatest"))
BOUND = 30.0  # seconds: a safety net for polls, never a measured duration


def wait_for(predicate, timeout: float = BOUND, interval: float = 0.2):
    """Poll `predicate` until it returns something true, and return that: for what a process
    does on its own (a server exits, a job ends). The bound only turns a hang into a
    failure; nothing is timed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


class AreaRunner:
    def __init__(self, root: Path):
        self.root = root

    def mt(self, *args: str, timeout: float = 120, check: int | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [MEGATEST, *args], cwd=self.root, capture_output=True, text=True, timeout=timeout,
            env=env,
        )
        if check is not None:
            assert proc.returncode == check, proc.stdout + proc.stderr
        return proc

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [MEGATEST, *args], cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )

    def table(self, target: str, runname: str) -> dict[str, tuple[str, str]]:
        proc = self.mt("query", "tests", "--target", target, "--runname", runname,
                       "--format", "json", check=0)
        return {
            (f"{r['test']}/{r['item']}" if r["item"] else r["test"]): (r["state"], r["status"])
            for r in json.loads(proc.stdout)
        }

    def rows(self, target: str, runname: str) -> list[dict]:
        proc = self.mt("query", "tests", "--target", target, "--runname", runname,
                       "--format", "json", check=0)
        return json.loads(proc.stdout)

    def ran(self) -> list[str]:
        """Lines the tests of an area append to ran.log, one per execution."""
        log = self.root / "ran.log"
        return log.read_text().split() if log.exists() else []


# what running an area leaves in it (its dbs, its server's packets, logs, run folders): a test
# copies the area as the repository has it, whatever ran there before (`make demo`)
RUNTIME = shutil.ignore_patterns(".db", ".meta", "logs", "runs", "links", "lt")


def copy_area(source: Path, dest: Path) -> Path:
    """A fresh copy of the area `source` at `dest`, with an empty runs/ folder."""
    shutil.copytree(source, dest, ignore=RUNTIME)
    (dest / "runs").mkdir()
    return dest


@pytest.fixture
def make_area(tmp_path):
    made: list[AreaRunner] = []

    def make(name: str) -> AreaRunner:
        made.append(AreaRunner(copy_area(AREAS / name, tmp_path / name)))
        return made[-1]

    yield make
    for area in made:  # the areas' held tests wait for `go`: none outlives a failed test
        (area.root / "go").touch()
