"""LeanStore (stdlib sqlite3) against Store (SQLAlchemy): same schema names, same answers,
same rows written, and no SQLAlchemy/Alembic import on an area whose dbs are at head."""

import sqlite3
import subprocess
import sys
import time

import pytest

from megatest.errors import StoreError, UsageError
from megatest.store import schema
from megatest.store.api import Store
from megatest.store.columns import RESERVED_RUN_COLUMNS, TEST_META_FIELDS
from megatest.store.lean import USES, LeanStore
from megatest.store.records import RunRecord, TestRecord

FIELDS = ["SYSTEM", "RELEASE"]
U1 = {"SYSTEM": "ubuntu", "RELEASE": "v1"}
U2 = {"SYSTEM": "ubuntu", "RELEASE": "v2"}
S1 = {"SYSTEM": "sles", "RELEASE": "v1"}
NOW = 1_700_000_000


def test_lean_columns_are_the_schema_columns():
    for table, columns in USES.items():
        assert set(columns) <= set(schema.column_names(table)), table
    assert set(USES["runs"]) == set(schema.RUNS_BASE_COLUMNS)
    assert set(RunRecord.__dataclass_fields__) - {"keys"} == set(USES["runs"])
    assert set(TestRecord.__dataclass_fields__) == set(USES["tests"])
    assert set(USES["test_meta"]) == set(schema.column_names("test_meta"))
    assert TEST_META_FIELDS == set(schema.column_names("test_meta")) - {"id", "testname"}
    assert schema.RESERVED_RUN_COLUMNS is RESERVED_RUN_COLUMNS


def _populate(s, advance):
    """A generated history: 3 targets, 4 runs, plain tests and items in every state."""
    r1 = s.get_or_create_run(U1, "nightly")
    advance()
    r2 = s.get_or_create_run(U2, "nightly")
    advance()
    r3 = s.get_or_create_run(S1, "weekly_1", owner="bob", contour="c1")
    advance()
    r4 = s.get_or_create_run(U1, "Weekly_2")
    pairs = [("compile", ""), ("unit", "a/1"), ("unit", "a/2"), ("unit", "b/1"),
             ("lint", ""), ("docs", ""), ("perf", "x")]
    ids = {run: s.register_tests(run, pairs) for run in (r1, r2, r3, r4)}
    script = [
        (("compile", ""), "COMPLETED", "PASS", None),
        (("unit", "a/1"), "RUNNING", "n/a", None),
        (("unit", "a/2"), "COMPLETED", "FAIL", "exit 1"),
        (("unit", "b/1"), "COMPLETED", "PASS", None),
        (("lint", ""), "KILLREQ", None, None),
        (("docs", ""), "DELETED", "n/a", None),
        (("perf", "x"), "COMPLETED", "WARN", "slow"),
    ]
    rollups = []
    for n, run in enumerate((r1, r2, r3)):
        changes = [(ids[run][key], st, stt, c) for key, st, stt, c in script[: 3 + 2 * n]]
        rollups.append(s.set_tests_state_status(run, changes))
    s.update_test_fields(r1, ids[r1][("compile", "")], host="h1", rundir="/r/c", pid=42,
                         run_duration=7, final_logf="c.log")
    s.set_test_state_status(r4, ids[r4][("unit", "b/1")], "COMPLETED", "PASS", "ok")
    s.request_kill(r4, ids[r4][("lint", "")])
    for run in (r1, r2, r3, r4):
        rollups.append(s.rollup_run(run))
    s.set_run_state_status(r2, status="WARN", comment="flaky")
    s.lock_run(r3, user="alice")
    s.set_test_meta_many({"compile": {"owner": "alice", "tags": "fast"}, "unit": {}})
    s.set_test_meta("compile", description="builds it")
    s.set_var("LAST", 3)
    return [r1, r2, r3, r4], ids, rollups


class Clock:
    """time.time() frozen at NOW; calling the clock moves it 10 s on."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        self.now += 10

    def reset(self):
        self.now = NOW


@pytest.fixture
def frozen_time(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(time, "time", lambda: float(clock.now))
    return clock


@pytest.fixture
def area(tmp_path, frozen_time):
    with Store.open(tmp_path, fields=FIELDS) as s:
        runs, ids, _ = _populate(s, frozen_time)
    return tmp_path, runs, ids


READ_CALLS = [
    ("find_runs", (), {}),
    ("find_runs", (), {"newest_first": True}),
    ("find_runs", (), {"include_deleted": True}),
    ("find_runs", ("ubuntu/%",), {}),
    ("find_runs", ("%/v1",), {}),
    ("find_runs", ("ubuntu",), {}),
    ("find_runs", ("ub*/v[12]",), {}),
    ("find_runs", ("sles/v1,v2",), {}),
    ("find_runs", (None, "weekly%"), {}),
    ("find_runs", (None, "weekly*"), {}),
    ("find_runs", (None, "nightly,Weekly_2"), {}),
    ("find_runs", ("nomatch", None), {}),
    ("get_var", ("LAST",), {}),
    ("get_var", ("MISSING",), {}),
    ("get_test_meta", ("compile",), {}),
    ("get_test_meta", ("unit",), {}),
    ("get_test_meta", ("nosuch",), {}),
]

TEST_QUERIES = [
    ((), {}),
    (("%",), {}),
    (("unit",), {}),
    (("unit/",), {}),
    (("unit/a/%",), {}),
    (("unit/a*",), {}),
    (("c*,perf/x",), {}),
    (("UNIT%",), {}),
    ((None, ["COMPLETED"]), {}),
    ((None, ["COMPLETED", "RUNNING"], ["PASS", "n/a"]), {}),
    ((None, ["COMPLETED"]), {"not_in": True}),
    ((None, None, ["PASS"]), {"not_in": True, "include_deleted": True}),
    ((), {"include_deleted": True}),
    ((), {"since": 0}),
    ((), {"since": 2**40}),
]


def test_every_read_gives_the_same_answer(area):
    root, runs, ids = area
    with Store.open(root) as full, LeanStore.open(root, create=False) as lean:
        assert lean.keys == full.keys == FIELDS
        for name, args, kw in READ_CALLS:
            assert getattr(lean, name)(*args, **kw) == getattr(full, name)(*args, **kw), (name, args)
        for run in [*runs, 999]:
            assert lean.get_run(run) == full.get_run(run)
            assert lean.is_locked(run) == full.is_locked(run)
            assert lean.get_run_stats(run) == full.get_run_stats(run)
        for run in runs:
            for args, kw in TEST_QUERIES:
                got = lean.get_tests(run, *args, **kw)
                assert got == full.get_tests(run, *args, **kw), (run, args, kw)
            for (name, item), test_id in ids[run].items():
                assert lean.get_test(run, test_id) == full.get_test(run, test_id)
                assert lean.get_test_by_name(run, name, item) == full.get_test_by_name(run, name, item)
                assert lean.test_run_id(test_id) == full.test_run_id(test_id) == run
                assert lean.kill_requested(run, test_id) == full.kill_requested(run, test_id)
            assert lean.get_test_by_name(run, "nosuch") is None
        # the generated history is not trivial: the comparisons above saw real rows
        assert len(lean.find_runs()) == 4
        assert lean.get_run(runs[2]).locked and lean.get_run(runs[1]).status == "WARN"
        assert {t.state for t in lean.get_tests(runs[2])} >= {"COMPLETED", "RUNNING", "KILLREQ"}


def _dump(root):
    """Every row of every db of an area, without SQLite's own last_update clock."""
    out = {}
    for db in sorted((root / ".db").glob("*.db")):
        conn = sqlite3.connect(db)
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for table in tables:
            cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
            names = [d[0] for d in cur.description]
            out[(db.name, table)] = [
                {k: v for k, v in zip(names, row, strict=True) if k != "last_update"}
                for row in cur.fetchall()]
        conn.close()
    return out


def test_every_write_leaves_the_same_rows(tmp_path, frozen_time):
    results = {}
    for label, cls in (("full", Store), ("lean", LeanStore)):
        root = tmp_path / label
        root.mkdir()
        with cls.open(root, fields=FIELDS) as s:
            runs, ids, rollups = _populate(s, frozen_time)
            again = s.get_or_create_run(U1, "nightly")
            test_id = s.get_or_create_test(runs[0], "extra", "i/1", state="LAUNCHED")
            s.unlock_run(runs[2], user="carol")
            s.set_run_state_status(runs[3], state="deleted")
            revived = s.get_or_create_run(U1, "Weekly_2", state="new", status="n/a")
            s.remove_run(runs[1])
            empty = s.set_tests_state_status(runs[0], [])
            results[label] = (runs, ids, rollups, again, test_id, revived, empty, _dump(root))
        frozen_time.reset()  # the second area is written at the same clock readings
    full, lean = results["full"], results["lean"]
    assert lean[:7] == full[:7]
    assert lean[7].keys() == full[7].keys()
    for key in full[7]:
        assert lean[7][key] == full[7][key], key
    removed = f"{lean[0][1]}.db"
    assert removed not in {db for db, _ in lean[7]}  # the removed run's file is gone
    assert lean[6] == [] and lean[5] == lean[0][3]


def test_lean_errors_match(tmp_path):
    with pytest.raises(StoreError, match="no database"):
        LeanStore.open(tmp_path, create=False)
    (tmp_path / "megatest.db").write_bytes(b"")
    with pytest.raises(StoreError, match="db migrate"):
        LeanStore.open(tmp_path, fields=FIELDS)
    other = tmp_path / "o"
    with LeanStore.open(other, fields=FIELDS) as s:
        with pytest.raises(UsageError, match="do not match"):
            s.get_or_create_run({"SYSTEM": "x"}, "r")
        run = s.get_or_create_run(U1, "r")
        with pytest.raises(UsageError, match="cannot set"):
            s.update_test_fields(run, 1, state="PASS")
        with pytest.raises(UsageError, match="unknown test_meta"):
            s.set_test_meta("t", colour="red")
        with pytest.raises(StoreError, match="no test"):
            s.set_test_state_status(run, 12345, "RUNNING")
    with pytest.raises(StoreError, match="keys can only be appended"):
        LeanStore.open(other, fields=["RELEASE", "SYSTEM"])
    (other / ".db" / "main.db").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="cannot read this database"):
        LeanStore.open(other)


def test_reading_an_area_at_head_imports_neither_sqlalchemy_nor_alembic(area):
    root, runs, _ = area
    code = (
        "import sys\n"
        "from megatest.store.lean import LeanStore\n"
        f"with LeanStore.open({str(root)!r}, fields={FIELDS!r}) as s:\n"
        "    run = s.get_or_create_run({'SYSTEM': 'ubuntu', 'RELEASE': 'v9'}, 'new')\n"
        "    ids = s.register_tests(run, [('t', 'i')])\n"
        "    s.set_tests_state_status(run, [(ids[('t', 'i')], 'COMPLETED', 'PASS', None)])\n"
        "    s.rollup_run(run)\n"
        "    print(len(s.find_runs()), s.get_run(run).status,\n"
        "          'sqlalchemy' in sys.modules, 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["5", "PASS", "False", "False"]


def _imports_of(args, cwd):
    """Run the megatest CLI with -X importtime; (exit code, stdout, imported module names)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "megatest.cli.entry", *args],
                         cwd=cwd, capture_output=True, text=True)
    modules = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()
               if line.startswith("import time:")}
    return out.returncode, out.stdout, modules


def test_runner_and_queries_on_an_existing_area_skip_sqlalchemy(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "megatest.config").write_text(
        "[fields]\nSYSTEM TEXT\nRELEASE TEXT\n\n[setup]\nmax_concurrent_jobs 2\n"
        "linktree #{getenv MT_RUN_AREA_HOME}/lt\n\n[disks]\ndisk0 #{getenv MT_RUN_AREA_HOME}/runs\n")
    (tmp_path / "runconfigs.config").write_text("[default]\n\n[a/b]\n")
    (tmp_path / "tests" / "t1").mkdir(parents=True)
    (tmp_path / "tests" / "t1" / "testconfig").write_text("[ezsteps]\nstep true\n")
    start = ["--area", str(tmp_path), "runs", "start", "--target", "a/b", "--quiet"]
    code, _, first = _imports_of([*start, "--runname", "r1"], tmp_path)
    assert code == 0 and "alembic" in first  # a new area: main.db is built by Alembic
    for args in ([*start, "--runname", "r2"], ["--area", str(tmp_path), "query", "runs"],
                 ["--area", str(tmp_path), "query", "tests", "--target", "a/b", "--runname", "r2"],
                 ["--area", str(tmp_path), "runs", "get-status", "--target", "a/b",
                  "--runname", "r2"]):
        code, stdout, modules = _imports_of(args, tmp_path)
        assert code == 0, args
        assert "megatest.store.lean" in modules
        assert not {m for m in modules if m.split(".")[0] in ("sqlalchemy", "alembic")}, args
    assert stdout.strip() == "PASS"  # get-status of r2, the last command
    with LeanStore.open(tmp_path) as s:
        assert [(r.runname, r.status) for r in s.find_runs()] == [("r1", "PASS"), ("r2", "PASS")]
