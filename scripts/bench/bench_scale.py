"""Scale benchmark: ONE test with N items (`N [system seq 0 N-1]`) whose only step is `true`,
two at a time.

For each size it makes the area in a temp dir (tmpfs when /dev/shm is there: the file
system is not what is measured), runs `megatest runs start` once and prints:

  per item      wall time of the whole run / N (ms), and the CPU time of the runner and
                everything it waited for / N
  first launch  seconds from the start of `runs start` to the first item's work area (the
                expansion and registration of every item come before it)
  peak RSS      of the runner (the largest process of its tree: rusage of the waited pid)

and checks that every item ended COMPLETED/PASS and that the test's top row was rolled up to
COMPLETED/PASS. The goal: the per-item time at the largest size within 1.5x of the smallest,
the runner under 500 MB. Exit status 1 when a check or the goal fails.

    .venv/bin/python scripts/bench/bench_scale.py                 # 1,000 and 10,000 (~1 min)
    .venv/bin/python scripts/bench/bench_scale.py --sizes 1000,10000,100000   # ~10 min more
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from itemarea import items_area  # beside this script

VENV_BIN = Path(sys.executable).parent
TARGET = "bench/x"
RATIO_GOAL = 1.5
RSS_GOAL_MB = 500


def write_area(root: Path, items: int) -> Path:
    return items_area(root / f"area{items}", items, jobs=2, fields=("SYSTEM", "RELEASE"),
                      targets=(TARGET,))


def run_once(area: Path, runname: str) -> dict[str, float]:
    """Time one `runs start`; the first launch is seen as the first item's work area."""
    first_dir = area / "runs" / TARGET / runname / "t" / "0"
    cmd = [str(VENV_BIN / "megatest"), "--area", str(area), "runs", "start",
           "--target", TARGET, "--runname", runname, "--quiet"]
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=area, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = None
    while first is None:
        if first_dir.exists():
            first = time.perf_counter() - start
            break
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {stderr[-2000:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "first": first if first is not None else float("nan"),
        "rss_mb": usage.ru_maxrss / 1024,
    }


def check_rows(area: Path, items: int) -> list[str]:
    """What is wrong with the run's rows: every item COMPLETED/PASS, the top row too."""
    dbs = [p for p in (area / ".db").glob("*.db") if p.stem.isdigit()]
    if len(dbs) != 1:
        return [f"expected one run db, found {len(dbs)}"]
    conn = sqlite3.connect(dbs[0])
    try:
        done = conn.execute(
            "SELECT count(*) FROM tests WHERE item_path!='' AND state='COMPLETED' "
            "AND status='PASS'").fetchone()[0]
        top = conn.execute("SELECT state, status FROM tests WHERE item_path=''").fetchall()
    finally:
        conn.close()
    problems = []
    if done != items:
        problems.append(f"{done} of {items} items COMPLETED/PASS")
    if top != [("COMPLETED", "PASS")]:
        problems.append(f"top row {top}, not COMPLETED/PASS")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated item counts (default 1000,10000; add 100000 "
                             "for the full check, about 10 minutes on 2 cores)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="make the temp dir here (default /dev/shm, else the system's)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    base = args.dir or (Path("/dev/shm") if Path("/dev/shm").is_dir() else None)
    root = Path(tempfile.mkdtemp(prefix="mt-scale-", dir=base))
    import megatest

    # without .pyc files every start would compile the package first (PYTHONDONTWRITEBYTECODE)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(megatest.__file__).parent)],
                   stdout=subprocess.DEVNULL, check=False)
    print(f"one test, N items of `true`, 2 at a time; {os.cpu_count()} cores; in {root}")
    print(f"  {'items':>8}  {'ms/item':>8}  {'cpu ms/item':>11}  {'first launch':>12}  "
          f"{'peak RSS':>9}  rows")
    failed = False
    per_item: dict[int, float] = {}
    try:
        for n in sizes:
            area = write_area(root, n)
            got = run_once(area, "r1")
            problems = check_rows(area, n)
            failed = failed or bool(problems)
            per_item[n] = got["wall"] / n * 1000
            print(f"  {n:>8}  {per_item[n]:>8.2f}  {got['cpu'] / n * 1000:>11.2f}  "
                  f"{got['first']:>10.2f} s  {got['rss_mb']:>6.0f} MB  "
                  f"{'ok' if not problems else '; '.join(problems)}", flush=True)
            if got["rss_mb"] > RSS_GOAL_MB:
                print(f"  the runner's peak RSS is over {RSS_GOAL_MB} MB")
                failed = True
            if not args.keep:
                shutil.rmtree(area, ignore_errors=True)
        if len(per_item) > 1:
            small, large = min(per_item), max(per_item)
            ratio = per_item[large] / per_item[small]
            print(f"per-item time at {large} / at {small} = {ratio:.2f} (goal <= {RATIO_GOAL})")
            failed = failed or ratio > RATIO_GOAL
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
