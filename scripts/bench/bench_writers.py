"""Many writers on one run: 32 processes x 500 state changes each on the items of one test.

Each change is a full set_test_state_status (read-modify-write of the item plus the rollup
of the shared parent row) in BEGIN IMMEDIATE. An audit trigger, added to the benchmark's run
db only, records every committed item state write in the same transaction, so lost writes
would show as missing audit rows.

Prints, for the per-test writer (megatest.store.testwrite, what test helpers use) and the
full Store API (megatest.store.api): changes/s with 32 writers, lost writes, 'database is locked' errors;
the single-writer rate and the ratio concurrent/single; the import time of each path.
Goal: zero lost, zero locked errors. Exit status 1 otherwise.

Usage: python scripts/bench/bench_writers.py [--procs N] [--changes N]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gate import run_gated, wait_at_gate  # noqa: E402 (beside this script)

CYCLE = [("REMOTEHOSTSTART", "n/a"), ("RUNNING", "n/a"), ("RUNNING", "WARN"),
         ("COMPLETED", "PASS")]
AUDIT = ("CREATE TRIGGER bench_audit AFTER UPDATE OF state ON tests WHEN new.item_path != '' "
         "BEGIN INSERT INTO test_rundat (test_id, update_time) VALUES (new.id, 0); END")


def worker(area: str, run_id: int, test_id: int, n: int, path: str, go: str) -> None:
    """One writer process: wait for the start signal, make n changes, print a JSON result."""
    if path == "lean":
        from megatest.store.testwrite import TestWriter

        w = TestWriter(area, run_id)
        change = w.set_state_status
        change_args: tuple = ()
    else:
        from megatest.store import open_store

        s = open_store(area)
        change = s.set_test_state_status
        change_args = (run_id,)
    wait_at_gate(go, str(test_id))
    ok = errors = locked = 0
    for i in range(n):
        state, status = CYCLE[i % len(CYCLE)] if i < n - 1 else CYCLE[-1]
        try:
            change(*change_args, test_id, state, status)
            ok += 1
        except Exception as exc:  # counted and reported, the benchmark must not hide them
            errors += 1
            locked += "locked" in str(exc)
    print(json.dumps({"ok": ok, "errors": errors, "locked": locked}))


def setup(base: Path, procs: int) -> tuple[Path, int, list[int]]:
    from megatest.store import open_store

    area = Path(tempfile.mkdtemp(dir=base))
    with open_store(area, fields=["SYSTEM"]) as s:
        run_id = s.get_or_create_run({"SYSTEM": "bench"}, "writers")
        items = [s.get_or_create_test(run_id, "t", f"i{k}") for k in range(procs)]
    conn = sqlite3.connect(area / ".db" / f"{run_id}.db")
    conn.execute(AUDIT)
    conn.commit()
    conn.close()
    return area, run_id, items


def run_writers(base: Path, procs: int, changes: int, path: str) -> dict:
    area, run_id, items = setup(base, procs)
    results, elapsed = run_gated(__file__, [[str(area), str(run_id), str(test_id), str(changes),
                                             path] for test_id in items], area / "go")
    conn = sqlite3.connect(area / ".db" / f"{run_id}.db")
    audit = dict(conn.execute("SELECT test_id, count(*) FROM test_rundat GROUP BY test_id"))
    parent = conn.execute("SELECT state, status FROM tests WHERE item_path=''").fetchone()
    conn.close()
    ok = sum(r["ok"] for r in results)
    return {
        "procs": procs, "changes": procs * changes, "ok": ok, "seconds": elapsed,
        "rate": ok / elapsed, "errors": sum(r["errors"] for r in results),
        "locked": sum(r["locked"] for r in results),
        "lost": procs * changes - sum(audit.get(t, 0) for t in items),
        "parent": parent,
    }


def import_ms(module: str, runs: int = 5) -> float:
    def once(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t0

    bare = statistics.median(once("pass") for _ in range(runs))
    return 1000 * (statistics.median(once(f"import {module}") for _ in range(runs)) - bare)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        a = sys.argv[2:]
        worker(a[0], int(a[1]), int(a[2]), int(a[3]), a[4], a[5])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=32)
    ap.add_argument("--changes", type=int, default=500)
    args = ap.parse_args()
    from megatest.store.sqlite_conn import journal_mode_for

    base = Path(tempfile.mkdtemp(prefix="mt-bench-writers-"))
    print(f"db folder {base} (journal mode {journal_mode_for(base / 'x.db')})")
    failed = False
    rates = {}
    for path in ("lean", "store"):
        single = run_writers(base, 1, max(args.changes, 2000), path)
        multi = run_writers(base, args.procs, args.changes, path)
        rates[path] = multi["rate"]
        print(f"[{path}] 1 writer: {single['rate']:7.0f} changes/s | {multi['procs']} writers: "
              f"{multi['ok']}/{multi['changes']} ok in {multi['seconds']:.2f}s = "
              f"{multi['rate']:7.0f} changes/s, lost {multi['lost']}, errors {multi['errors']} "
              f"('database is locked': {multi['locked']}), parent {'/'.join(multi['parent'])}")
        print(f"[{path}] ratio {multi['procs']} writers / 1 writer: "
              f"{multi['rate'] / single['rate']:.2f}")
        failed |= bool(multi["lost"] or multi["errors"] or single["lost"] or single["errors"])
        failed |= multi["parent"] != ("COMPLETED", "PASS")
    print(f"ratio lean/store with {args.procs} writers: {rates['lean'] / rates['store']:.2f}")
    lean_ms, store_ms = import_ms("megatest.store.testwrite"), import_ms("megatest.store.api")
    print(f"import time above bare python: lean path {lean_ms:.0f} ms, Store {store_ms:.0f} ms "
          f"(ratio {store_ms / max(lean_ms, 1):.1f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
