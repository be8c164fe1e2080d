"""Start-up cost of the console script against bare Python.

Times (best and median of N runs) `python -c pass`, `megatest --version` and
`megatest query config --file <small file> --format json` (plus, for information, the
legacy `-show-config -section S -var V` on the demo area), and prints each one's cost
above bare Python. Goal: `query config` at most 0.1 s above bare start-up, because tests
call `$MT_MEGATEST -show-config ...` from their steps.

Usage: python scripts/bench/bench_startup.py [-n RUNS]
Exit status 1 when the goal is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 0.1
ROOT = Path(__file__).resolve().parents[2]


def megatest_command() -> list[str]:
    script = Path(sys.executable).parent / "megatest"
    return [str(script)] if script.exists() else [sys.executable, "-m", "megatest"]


def time_command(cmd: list[str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        samples.append(time.perf_counter() - start)
    return min(samples), statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=15)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = os.path.join(tmp, "small.config")
        Path(small).write_text(
            "[setup]\nmax_concurrent_jobs 4\nlinktree #{getenv HOME}/links\n"
            "[jobtools]\nlauncher nbfake\n"
        )
        megatest = megatest_command()
        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("megatest --version", [*megatest, "--version"]),
            # informational: what a test step calls, on the demo area (env-override runs sh)
            (
                "megatest -show-config -section S -var V (demo)",
                [*megatest, "-show-config", "-section", "setup", "-var", "linktree",
                 "-start-dir", str(ROOT / "examples" / "demo")],
            ),
            # the goal is measured on this one: keep it last
            (
                "megatest query config --file F --format json",
                [*megatest, "query", "config", "--file", small, "--format", "json"],
            ),
        ]
        results = [(name, *time_command(cmd, opts.runs)) for name, cmd in cases]
    base_best, base_median = results[0][1], results[0][2]
    print(f"{'command':48} {'best':>8} {'median':>8} {'+best':>8} {'+median':>8}")
    for name, best, median in results:
        print(
            f"{name:48} {best:8.3f} {median:8.3f} "
            f"{best - base_best:+8.3f} {median - base_median:+8.3f}"
        )
    over = results[-1][1] - base_best
    verdict = "ok" if over <= GOAL_SECONDS else "OVER"
    print(f"query config: {over:.3f} s above bare Python (goal <= {GOAL_SECONDS} s): {verdict}")
    return 0 if over <= GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
