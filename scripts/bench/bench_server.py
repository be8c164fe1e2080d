"""The area server against the direct path, each measured beside the other on the same machine.

(a) 64 writer processes that each keep one writer open and make 500 state/status changes on
    their own test: through the server (RemoteWriter, one kept-alive connection each, with
    write-behind as long-lived writers use it, and once more with one round trip a change) and
    straight to SQLite (open_run_writer). Prints changes/s of each, the ratio server/direct,
    errors, and batches that fell back to the db. Goal: the server at least as fast, no errors.
(b) the helper call a running test makes, `megatest -set-values ...`, a process per call:
    64 tests writing 25 values each, with a server up and with none. Prints the wall times,
    writes/s and the ratio. Goal: no slower through the server.

Every change and value is checked in the db afterwards. Exit status 1 when a write is missing
or failed (the speed goals are reported, not enforced: the machine's load moves them).

Usage: python scripts/bench/bench_server.py [--writers N] [--changes N] [--tests N] [--values N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gate import run_gated, wait_at_gate  # noqa: E402 (beside this script)

MEGATEST = str(Path(sys.executable).with_name("megatest"))
CYCLE = [("REMOTEHOSTSTART", "n/a"), ("RUNNING", "n/a"), ("RUNNING", "WARN"),
         ("COMPLETED", "PASS")]
SERVER_WAIT = 30.0  # seconds for a server to write its packet
# one running test: its values one helper process each, as a test's script writes them
SCRIPT = """
i=1
while [ $i -le "$VALUES" ]; do
  "$MT_MEGATEST" -set-values :category bench :variable "v$i" :value "$i" :expected "$i" \
      :tol 0 || exit 1
  i=$((i + 1))
done
"""


def worker(area: str, run_id: int, test_id: int, n: int, path: str, go: str) -> None:
    """One writer process: open its writer, wait for the start signal, make n changes."""
    if path != "direct":
        from megatest.server.remote import open_remote_writer

        writer = open_remote_writer(area, run_id, write_behind=path == "server")
        if writer is None:
            raise SystemExit("no server answered")
    else:
        from megatest.store import open_run_writer

        writer = open_run_writer(area, run_id)
    wait_at_gate(go, str(test_id))
    ok = errors = 0
    for i in range(n):
        state, status = CYCLE[i % len(CYCLE)] if i < n - 1 else CYCLE[-1]
        try:
            writer.set_state_status(test_id, state, status)
            ok += 1
        except Exception:  # noqa: BLE001 (counted and reported: the benchmark must not hide them)
            errors += 1
    fallback = getattr(writer, "direct_batches", 0)
    writer.close()
    print(json.dumps({"ok": ok, "errors": errors, "fallback": fallback}))


def make_area(base: Path, tests: int) -> tuple[Path, int, list[int]]:
    from megatest.store import open_store

    area = Path(tempfile.mkdtemp(dir=base))
    with open_store(area, fields=[("SYSTEM", "TEXT")]) as store:
        run_id = store.get_or_create_run({"SYSTEM": "bench"}, "server")
        ids = store.register_tests(run_id, [(f"t{n:02d}", "") for n in range(tests)])
    return area, run_id, list(ids.values())


def start_server(area: Path) -> subprocess.Popen:
    from megatest.server import client

    code = ("import sys; from pathlib import Path; from megatest.server.service import serve; "
            "serve(Path(sys.argv[1]), bind='127.0.0.1', port=0, itype='runner', "
            "idle_timeout=600)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(area)], start_new_session=True)
    if client.wait_for_packet(area, proc.pid, lambda: proc.poll() is None, SERVER_WAIT) is None:
        proc.kill()
        raise SystemExit("the server did not write its packet")
    return proc


def stop_server(proc: subprocess.Popen | None) -> None:
    if proc is not None:
        proc.send_signal(signal.SIGTERM)
        proc.wait()


def final_states(area: Path, run_id: int) -> list[tuple[str, str]]:
    from megatest.store import open_store

    with open_store(area, create=False) as store:
        return [(t.state, t.status) for t in store.get_tests(run_id)]


def run_writers(base: Path, writers: int, changes: int, path: str) -> dict:
    area, run_id, ids = make_area(base, writers)
    server = start_server(area) if path != "direct" else None
    try:
        results, elapsed = run_gated(
            __file__, [[str(area), str(run_id), str(test_id), str(changes), path]
                       for test_id in ids], area / "go", label=path)
    finally:
        stop_server(server)
    ok = sum(r["ok"] for r in results)
    return {"ok": ok, "changes": writers * changes, "seconds": elapsed, "rate": ok / elapsed,
            "errors": sum(r["errors"] for r in results),
            "fallback": sum(r["fallback"] for r in results),
            "unfinished": sum(s != CYCLE[-1] for s in final_states(area, run_id))}


def run_helpers(base: Path, tests: int, values: int, path: str) -> dict:
    from megatest.store import open_store

    area, run_id, ids = make_area(base, tests)
    server = start_server(area) if path == "server" else None
    try:
        t0 = time.monotonic()
        procs = []
        for n, test_id in enumerate(ids):
            env = {**os.environ, "MT_RUN_AREA_HOME": str(area), "MT_TEST_NAME": f"t{n:02d}",
                   "MT_RUN_ID": str(run_id), "MT_TEST_ID": str(test_id), "MT_MEGATEST": MEGATEST,
                   "VALUES": str(values)}
            env.pop("MT_TEST_RUN_DIR", None)
            procs.append(subprocess.Popen(["sh", "-c", SCRIPT], env=env, stderr=subprocess.PIPE,
                                          text=True))
        failed = sum(p.wait() != 0 for p in procs)
        elapsed = time.monotonic() - t0
    finally:
        stop_server(server)
    with open_store(area, create=False) as store:
        stored = sum(len(store.get_test_data(run_id, test_id)) for test_id in ids)
    return {"seconds": elapsed, "writes": tests * values, "rate": stored / elapsed,
            "failed": failed, "missing": tests * values - stored}


def _alternating(paths: tuple[str, ...], round_no: int) -> tuple[str, ...]:
    """The paths in order on even rounds, reversed on odd ones: a load that changes during
    the run weighs on both sides alike."""
    return paths if round_no % 2 == 0 else paths[::-1]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        a = sys.argv[2:]
        worker(a[0], int(a[1]), int(a[2]), int(a[3]), a[4], a[5])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writers", type=int, default=64)
    ap.add_argument("--changes", type=int, default=500)
    ap.add_argument("--tests", type=int, default=64)
    ap.add_argument("--values", type=int, default=25)
    ap.add_argument("--rounds", type=int, default=2,
                    help="rounds of each part, the paths alternating; the best of each counts")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="mt-bench-server-"))
    print(f"areas under {base}, {os.cpu_count()} cpus, best of {args.rounds} rounds")
    bad = False
    rates: dict[str, float] = {}
    for n in range(args.rounds):
        for path in _alternating(("direct", "server", "server-sync"), n):
            r = run_writers(base, args.writers, args.changes, path)
            rates[path] = max(rates.get(path, 0.0), r["rate"])
            print(f"(a) [{path}] {args.writers} writers: {r['ok']}/{r['changes']} changes in "
                  f"{r['seconds']:.2f}s = {r['rate']:7.0f} changes/s, errors {r['errors']}, "
                  f"fell back to the db {r['fallback']}, tests not at the last state "
                  f"{r['unfinished']}")
            bad |= bool(r["errors"] or r["unfinished"] or r["ok"] != r["changes"])
    ratio = rates["server"] / rates["direct"]
    print(f"(a) best: direct {rates['direct']:.0f}/s, server {rates['server']:.0f}/s; ratio "
          f"server/direct {ratio:.2f} (goal >= 1: {'met' if ratio >= 1 else 'missed'}); one round "
          f"trip a change (no write-behind): {rates['server-sync'] / rates['direct']:.2f}")
    times: dict[str, float] = {}
    for n in range(args.rounds):
        for path in _alternating(("direct", "server"), n):
            r = run_helpers(base, args.tests, args.values, path)
            times[path] = min(times.get(path, float("inf")), r["seconds"])
            print(f"(b) [{path}] {args.tests} tests x {args.values} -set-values: "
                  f"{r['seconds']:.1f}s = {r['rate']:5.1f} writes/s, failed tests {r['failed']}, "
                  f"missing values {r['missing']}")
            bad |= bool(r["failed"] or r["missing"])
    speed = times["direct"] / times["server"]
    writes = args.tests * args.values
    print(f"(b) best: direct {times['direct']:.1f}s ({writes / times['direct']:.1f} writes/s), "
          f"server {times['server']:.1f}s ({writes / times['server']:.1f} writes/s); ratio "
          f"server/direct (writes/s) {speed:.2f} (goal >= 1: {'met' if speed >= 1 else 'missed'})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
