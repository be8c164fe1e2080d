"""Reports of a big run: `query runs`, `query tests --format json` and `util junit` on a run of
N tests (10,000 and 100,000 by default), each in its own `megatest` process.

The run is written straight into the store (registering 100,000 items, 1% of them failed
with a step, 1% blocked by a prerequisite), beside 20 small runs, in a temp dir (tmpfs when
/dev/shm is there). For each size it prints the wall time of each command (best of 3 for
`query runs`) and the peak RSS of its process, and checks:

  query runs     under 0.3 s at every size (it reads the runs table, never the tests)
  json, junit    peak RSS at the largest size within 1.3x (+10 MB) of the smallest:
                 memory bounded, not growing with the number of tests
  junit          the file's counts are the run's (tests, failures, skipped)

    .venv/bin/python scripts/bench/bench_reports.py                     # ~1 min
    .venv/bin/python scripts/bench/bench_reports.py --sizes 1000,100000
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from megatest.store import open_store

VENV_BIN = Path(sys.executable).parent
QUERY_RUNS_GOAL = 0.3
RSS_RATIO_GOAL, RSS_SLACK_MB = 1.3, 10
SMALL_RUNS = 20


def make_area(root: Path, size: int) -> Path:
    area = root / f"area{size}"
    area.mkdir(parents=True)
    (area / "megatest.config").write_text("[fields]\nSYSTEM TEXT\nRELEASE TEXT\n")
    (area / "runconfigs.config").write_text("[default]\n")
    with open_store(area, fields=["SYSTEM", "RELEASE"]) as store:
        for k in range(SMALL_RUNS):
            run_id = store.get_or_create_run({"SYSTEM": "small", "RELEASE": str(k)}, "nightly")
            store.register_tests(run_id, [("t", "")], state="COMPLETED", status="PASS")
        run_id = store.get_or_create_run({"SYSTEM": "big", "RELEASE": "v1"}, "nightly")
        per_test = 1000
        pairs = [(f"test{n // per_test:03d}", f"item/{n % per_test:04d}") for n in range(size)]
        ids = store.register_tests(run_id, pairs, state="COMPLETED", status="PASS")
        failed = [ids[p] for p in pairs[::100]]
        blocked = [ids[p] for p in pairs[50::100]]
        changes = [(i, "COMPLETED", "FAIL", "Failed at step run") for i in failed]
        changes += [(i, "NOT_STARTED", "PREQ_FAIL", "waiton build ended FAIL") for i in blocked]
        store.set_tests_state_status(run_id, changes)
        for test_id in failed:
            store.add_step(run_id, test_id, "run", "start", "-")
            store.add_step(run_id, test_id, "run", "end", "1", "run.html", "FAIL: 2 errors")
    return area


def run(area: Path, *args: str, out: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `megatest` process; its output to `out`."""
    cmd = [str(VENV_BIN / "megatest"), "--area", str(area), *args]
    with open(out or os.devnull, "w") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return took, usage.ru_maxrss / 1024


def measure(root: Path, size: int) -> dict[str, float]:
    # the area is made by another process: a child forked from this one would start with
    # this one's pages, and its peak RSS would be this process's, not its own
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--make", str(root), "--sizes", str(size)],
                   check=True)
    area = root / f"area{size}"
    made = time.perf_counter() - started
    runs_time = min(run(area, "query", "runs")[0] for _ in range(3))
    json_time, json_rss = run(area, "query", "tests", "--target", "big/v1", "--runname", "nightly",
                              "--format", "json",
                              out=root / f"tests{size}.json")
    junit = root / f"junit{size}.xml"
    junit_time, junit_rss = run(area, "util", "junit", "--target", "big/v1", "--runname",
                                 "nightly", "-o", str(junit))
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    expected = (str(size), str(len(range(0, size, 100))), str(len(range(50, size, 100))))
    got = (suite.get("tests"), suite.get("failures"), suite.get("skipped"))
    if got != expected:
        raise SystemExit(f"junit counts {got}, expected {expected}")
    print(f"{size:>7} tests (made in {made:.1f}s): query runs {runs_time:.3f}s | "
          f"query tests json {json_time:.2f}s, {json_rss:.0f} MB | "
          f"util junit {junit_time:.2f}s, {junit_rss:.0f} MB, "
          f"{junit.stat().st_size / 1e6:.1f} MB file", flush=True)
    return {"runs": runs_time, "json_rss": json_rss, "junit_rss": junit_rss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--make", help=argparse.SUPPRESS)  # make the area of --sizes in DIR
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.make:
        make_area(Path(args.make), sizes[0])
        return 0
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    root = Path(tempfile.mkdtemp(prefix="mt-bench-reports-", dir=base))
    try:
        results = [measure(root, size) for size in sizes]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    bad = [f"query runs took {r['runs']:.3f}s at {s} tests (goal {QUERY_RUNS_GOAL}s)"
           for s, r in zip(sizes, results, strict=True) if r["runs"] > QUERY_RUNS_GOAL]
    first, last = results[0], results[-1]
    for key in ("json_rss", "junit_rss"):
        if last[key] > first[key] * RSS_RATIO_GOAL + RSS_SLACK_MB:
            bad.append(f"{key} grew from {first[key]:.0f} MB to {last[key]:.0f} MB")
    for line in bad:
        print("FAIL:", line)
    if not bad:
        print(f"ok: query runs under {QUERY_RUNS_GOAL}s; json and junit memory bounded")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
