"""Generate an original-format megatest.db with realistic content (tests and benchmarks)."""

from __future__ import annotations

import random
import sqlite3

from megatest.store.legacy_schema import create_legacy_db

KEYS = [("SYSTEM", "TEXT"), ("RELEASE", "TEXT")]
STATUSES = ["PASS", "PASS", "PASS", "FAIL", "WARN", "ABORT", "n/a"]


def generate(
    path: str,
    runs: int = 3,
    tests_per_run: int = 6,
    items_per_test: int = 3,
    steps_per_test: int = 2,
    data_per_test: int = 2,
    variant: str = "head",
    orphans: bool = True,
    rundat: bool = True,
    seed: int = 7,
) -> dict[str, int]:
    """Fill a new legacy db; every `items_per_test`-th... test is itemized. Returns row counts."""
    rnd = random.Random(seed)
    conn = create_legacy_db(path, KEYS, variant)
    head = variant == "head"
    run_rows, test_rows, step_rows, data_rows, rundat_rows = [], [], [], [], []
    test_id = 0
    base = 1_700_000_000
    for r in range(1, runs + 1):
        state = "deleted" if r == 2 and runs > 2 else rnd.choice(["new", "locked", "unlocked"])
        row = [r, f"os{r % 3}", f"v{r}", f"run{r}", state, "n/a", "bob", base + r * 100]
        run_rows.append(row + ([""] if head else []))
        made = 0
        t = 0
        while made < tests_per_run:
            name = f"test{t}"
            t += 1
            itemized = items_per_test > 0 and t % 2 == 0
            paths = [""] + ([f"item/{i}" for i in range(items_per_test)] if itemized else [])
            for item in paths:
                if made >= tests_per_run:
                    break
                test_id += 1
                made += 1
                status = rnd.choice(STATUSES)
                test_rows.append((test_id, r, name, "host1", "Linux", f"/runs/{r}/{name}/{item}",
                                  item, "COMPLETED", status, base + r * 100 + made,
                                  rnd.randint(1, 300), f"c{made}"))
                for s in range(steps_per_test):
                    step_rows.append((test_id, f"step{s}", "start", "-", base + made))
                    step_rows.append((test_id, f"step{s}", "end", "0", base + made + 5))
                for d in range(data_per_test):
                    data_rows.append((test_id, "perf", f"var{d}", rnd.random(), 0.5, 0.6, "s",
                                      "pass"))
                if head and rundat and made % 3 == 0:
                    rundat_rows.append((test_id, base + made, 1, 1000, 10, made))
    keycols = ", ".join(k for k, _ in KEYS)
    with conn:
        conn.executemany(
            f"INSERT INTO runs (id, {keycols}, runname, state, status, owner, event_time"
            + (", contour" if head else "") + ") VALUES (?,?,?,?,?,?,?,?" + (",?" if head else "")
            + ")", run_rows)
        conn.executemany(
            "INSERT INTO tests (id, run_id, testname, host, uname, rundir, item_path, state, "
            "status, event_time, run_duration, comment) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            test_rows)
        conn.executemany(
            "INSERT INTO test_steps (test_id, stepname, state, status, event_time) "
            "VALUES (?,?,?,?,?)", step_rows)
        conn.executemany(
            "INSERT INTO test_data (test_id, category, variable, value, expected, tol, units, "
            "status) VALUES (?,?,?,?,?,?,?,?)", data_rows)
        conn.executemany("INSERT INTO test_meta (testname, author, tags) VALUES (?, 'me', 'a,b')",
                         [(f"test{t}",) for t in range(5)])
        if head:
            conn.executemany(
                "INSERT INTO test_rundat (test_id, update_time, cpuload, diskfree, diskusage, "
                "run_duration) VALUES (?,?,?,?,?,?)", rundat_rows)
            conn.execute("INSERT INTO run_stats (run_id, state, status, count) "
                         "VALUES (1, 'COMPLETED', 'PASS', 3)")
            conn.execute("INSERT INTO access_log (user, accessed, args) VALUES ('bob', 1, 'locked 1')")
            conn.execute("INSERT INTO tasks_queue (action, owner, target, name) "
                         "VALUES ('run-tests', 'bob', 'os1/v1', 'run1')")
            conn.execute("INSERT INTO archive_disks (archive_area_name, disk_path) VALUES ('a', '/d')")
            conn.execute("INSERT INTO archives (test_id, archive_path) VALUES (1, '/arch/1')")
        if orphans:
            # a test whose run is gone, and a step whose test is gone
            conn.execute("INSERT INTO tests (id, run_id, testname, item_path) "
                         "VALUES (?, 999, 'lost', '')", (test_id + 1,))
            conn.execute("INSERT INTO test_steps (test_id, stepname, state) VALUES (?, 'x', 'end')",
                         (test_id + 1000,))
    counts = table_counts(conn)
    conn.close()
    return counts


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return {n: conn.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}
