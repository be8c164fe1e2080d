"""The Slurm launcher against Slurm itself: 200 items whose step is `true`, run by
`megatest runs start` with `[jobtools] launcher slurm`, against a plain `sbatch --array` of the
same 200 commands on the same daemons (the floor: what Slurm alone takes to start and end them).

Each is timed from the command's start to the end of its last job (megatest: the run's end,
every result in the db; sbatch: squeue no longer lists the array). Goal: megatest / sbatch at
most 1.3. Needs a Slurm that answers (`scripts/slurm/up.sh`); without one it says so and
exits 0 having measured nothing.

`[slurm] tests-per-job` is measured as given (`--tests-per-job auto 1`: the default, which
bundles cheap tests by their known times, and one task per test). Each setting has its own
area, run once per round: with `auto` the first round is the area's first run (no history:
a slot's worth of items measure the test's time, the rest are bundled by it) and the later
rounds are reruns (bundled by the earlier runs' times); both are reported, and the goal is
judged on the default's first run and on its best rerun.

Usage: python scripts/bench/bench_slurm.py [--items N] [--rounds N] [--tests-per-job ...]
Exit status 1 when the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from itemarea import items_area  # beside this script

GOAL = 1.3
MEGATEST = str(Path(sys.executable).with_name("megatest"))
UP = Path(__file__).resolve().parents[1] / "slurm" / "up.sh"


def slurm_env() -> dict[str, str] | None:
    """This environment with the SLURM_CONF of a Slurm whose node takes jobs, or None
    (scripts/slurm/up.sh --check)."""
    try:
        out = subprocess.run(["sh", str(UP), "--check"], capture_output=True, text=True,
                             timeout=30)
    except subprocess.TimeoutExpired:
        return None
    conf = out.stdout.strip().partition("=")[2]
    return {**os.environ, "SLURM_CONF": conf} if out.returncode == 0 and conf else None


def make_area(top: Path, items: int, per_job: str = "auto") -> Path:
    return items_area(top / f"area{per_job}", items, jobs=items,
                      extra=f"\n[jobtools]\nlauncher slurm\n\n[slurm]\ntests-per-job {per_job}\n")


def time_megatest(area: Path, env: dict[str, str], runname: str) -> float:
    start = time.monotonic()
    proc = subprocess.run([MEGATEST, "runs", "start", "--target", "bench", "--runname", runname,
                           "--quiet"], cwd=area, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench_slurm: megatest run failed: {proc.stdout}{proc.stderr}")
    rows = json.loads(subprocess.run(
        [MEGATEST, "query", "tests", "--target", "bench", "--runname", runname, "--format",
         "json"], cwd=area, env=env, capture_output=True, text=True, check=True).stdout)
    passed = sum(1 for r in rows if r["item"] and (r["state"], r["status"]) == ("COMPLETED", "PASS"))
    if passed != len(rows) - 1:
        raise SystemExit(f"bench_slurm: {len(rows) - 1 - passed} items did not pass")
    return wall


def time_sbatch(top: Path, env: dict[str, str], items: int, name: str) -> float:
    script = top / "plain.sh"
    cases = "\n".join(f"{i}) true ;;" for i in range(items))
    script.write_text(f'#!/bin/sh\ncase "$SLURM_ARRAY_TASK_ID" in\n{cases}\nesac\n')
    start = time.monotonic()
    job = subprocess.run(["sbatch", "--parsable", f"--job-name={name}", f"--array=0-{items - 1}",
                          "--output=/dev/null", str(script)], env=env, capture_output=True,
                         text=True, check=True).stdout.strip().split(";")[0]
    while subprocess.run(["squeue", "-h", "-j", job], env=env, capture_output=True,
                         text=True).stdout.strip():
        time.sleep(0.1)  # the floor's own poll: as often as megatest's shortest
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tests-per-job", nargs="+", default=["auto", "1"],
                        help="[slurm] tests-per-job values to measure (auto: the default, "
                             "1: a task per item)")
    args = parser.parse_args()
    env = slurm_env()
    if env is None:
        print("bench_slurm: no Slurm answers here (start one with scripts/slurm/up.sh); "
              "nothing measured")
        return 0
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (the first run of an area, then reruns)")
    with tempfile.TemporaryDirectory(prefix="mt-bench-slurm-") as tmp:
        top = Path(tmp)
        areas = {n: make_area(top, args.items, n) for n in args.tests_per_job}
        plain: list[float] = []
        mt: dict[str, list[float]] = {n: [] for n in areas}
        for round_ in range(args.rounds):
            plain.append(time_sbatch(top, env, args.items, f"plain{round_}"))
            line = f"round {round_ + 1}: sbatch --array {plain[-1]:.2f} s"
            for n, area in areas.items():
                mt[n].append(time_megatest(area, env, f"r{round_}"))
                line += f", megatest tests-per-job {n} {mt[n][-1]:.2f} s"
            print(line, flush=True)
    floor = min(plain)
    print(f"{args.items} items `true`: best sbatch --array of {args.items} commands {floor:.2f} s")
    judged = None
    for n, times in mt.items():
        first, rerun = times[0], min(times[1:])
        print(f"  megatest, [slurm] tests-per-job {n}: first run {first:.2f} s "
              f"({first / floor:.2f}), best rerun {rerun:.2f} s ({rerun / floor:.2f}); "
              f"megatest / sbatch, goal <= {GOAL}")
        if judged is None or n == "auto":
            judged = max(first, rerun) / floor
    return 0 if judged is not None and judged <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
