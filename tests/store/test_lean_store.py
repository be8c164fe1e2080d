"""LeanStore and SqliteStore (LeanStore plus steps, test data, heartbeats): one implementation,
the schema names it uses, its pattern queries, its error messages, and no SQLAlchemy/Alembic
import on an area whose dbs are at head."""

import subprocess
import sys
import time

import pytest

from megatest.errors import StoreError, UsageError
from megatest.store import open_store, schema
from megatest.store.api import DATA_COLUMNS, STEP_COLUMNS, SqliteStore
from megatest.store.columns import RESERVED_RUN_COLUMNS, TEST_META_FIELDS
from megatest.store.lean import USES, LeanStore
from megatest.store.records import RunRecord, StepRecord, TestDataRecord, TestRecord

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
    assert set(STEP_COLUMNS) <= set(schema.column_names("test_steps"))
    assert set(DATA_COLUMNS) <= set(schema.column_names("test_data"))
    assert STEP_COLUMNS == tuple(StepRecord.__dataclass_fields__)
    assert DATA_COLUMNS == tuple(TestDataRecord.__dataclass_fields__)


def test_store_is_the_lean_store_plus_its_own_methods():
    """One implementation: SqliteStore re-defines none of LeanStore's methods, so a fix to one is
    a fix to both."""
    assert issubclass(SqliteStore, LeanStore)
    lean_methods = {n for n in vars(LeanStore) if not n.startswith("__")}
    assert lean_methods and not lean_methods & set(vars(SqliteStore))
    assert {"heartbeat", "add_step", "get_steps", "add_test_data", "get_test_data",
            "find_dead_tests", "mark_dead_tests"} <= set(vars(SqliteStore))


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
    with open_store(tmp_path, fields=FIELDS) as s:
        runs, ids, _ = _populate(s, frozen_time)
    return tmp_path, runs, ids


def _ids(runs):
    return [r.id for r in runs]


def test_find_runs_patterns(area):
    root, (r1, r2, r3, r4), _ = area
    with open_store(root, create=False) as s:
        assert s.keys == FIELDS
        assert _ids(s.find_runs()) == [r1, r2, r3, r4]
        assert _ids(s.find_runs(newest_first=True)) == [r4, r3, r2, r1]
        assert _ids(s.find_runs("ubuntu/%")) == [r1, r2, r4]
        assert _ids(s.find_runs("%/v1")) == [r1, r3, r4]
        assert _ids(s.find_runs("ubuntu")) == [r1, r2, r4]  # missing parts match anything
        assert _ids(s.find_runs("ub*/v[12]")) == [r1, r2, r4]
        assert _ids(s.find_runs("sles/v1,v2")) == [r3]
        assert _ids(s.find_runs(None, "weekly%")) == [r3, r4]  # LIKE ignores case
        assert _ids(s.find_runs(None, "weekly*")) == [r3]  # GLOB does not
        assert _ids(s.find_runs(None, "nightly,Weekly_2")) == [r1, r2, r4]
        assert s.find_runs("nomatch") == []
        for run, state in ((r1, "COMPLETED"), (r2, "RUNNING"), (r3, "RUNNING"), (r4, "COMPLETED")):
            s.set_run_state_status(run, state=state)
        assert _ids(s.find_runs(state="RUNNING")) == [r2, r3]
        assert _ids(s.find_runs("ubuntu", state="RUNNING")) == [r2]
        assert _ids(s.find_runs(newest_first=True, limit=2)) == [r4, r3]
        assert _ids(s.find_runs("ubuntu", limit=1)) == [r1]
        s.set_run_state_status(r4, state="deleted")
        assert _ids(s.find_runs("ubuntu")) == [r1, r2]
        assert _ids(s.find_runs("ubuntu", include_deleted=True)) == [r1, r2, r4]
        run = s.get_run(r3)
        assert (run.target, run.runname, run.owner, run.contour, run.locked) == (
            "sles/v1", "weekly_1", "bob", "c1", True)
        assert s.get_run(999) is None and not s.is_locked(999)
        assert s.get_var("LAST") == "3" and s.get_var("MISSING") is None
        assert s.get_test_meta("compile")["description"] == "builds it"
        assert s.get_test_meta("unit")["owner"] == "" and s.get_test_meta("nosuch") is None


def test_get_tests_queries(area):
    root, runs, ids = area
    r3 = runs[2]  # every step of the script applied: docs is DELETED, lint KILLREQ
    with open_store(root, create=False) as s:
        def names(*args, **kw):
            return [t.fullname for t in s.get_tests(r3, *args, **kw)]

        every = ["compile", "lint", "perf", "perf/x", "unit", "unit/a/1", "unit/a/2", "unit/b/1"]
        assert names() == names("%") == names(since=0) == every
        assert names(include_deleted=True) == sorted([*every, "docs"])
        assert names(since=2**40) == []
        assert names("unit") == ["unit", "unit/a/1", "unit/a/2", "unit/b/1"]
        assert names("unit/") == ["unit"]
        assert names("unit/a/%") == names("unit/a*") == ["unit/a/1", "unit/a/2"]
        assert names("c*,perf/x") == ["compile", "perf/x"]
        assert names("UNIT%") == ["unit", "unit/a/1", "unit/a/2", "unit/b/1"]
        # the parent "unit" is RUNNING too: rolled up from its running item
        assert names(None, ["KILLREQ", "RUNNING"]) == ["lint", "unit", "unit/a/1"]
        assert names(None, None, ["PASS"], not_in=True, include_deleted=True) == [
            "docs", "lint", "perf", "perf/x", "unit", "unit/a/1", "unit/a/2"]
        lint = ids[r3][("lint", "")]
        assert s.kill_requested(r3, lint) and s.test_run_id(lint) == r3
        assert s.get_test(r3, lint).fullname == "lint" and s.get_test(r3, 10**6) is None


def test_store_records_steps_data_and_heartbeats_without_sqlalchemy(area):
    root, runs, ids = area
    code = (
        "import sys\n"
        "from megatest.store import open_store\n"
        f"with open_store({str(root)!r}) as s:\n"
        f"    run, t = {runs[0]}, {ids[runs[0]][('unit', 'a/1')]}\n"
        "    s.update_test_fields(run, t, event_time=100, uname='Linux')\n"
        "    s.add_step(run, t, 'build', 'end', 0, 'b.log', event_time=7)\n"
        "    s.add_test_data(run, t, [{'category': 'perf', 'variable': 'x', 'value': 2,\n"
        "                              'expected': 1, 'tol': '>'}])\n"
        "    beat = s.heartbeat(run, t, now=150)\n"
        "    print(beat, s.find_dead_tests(run, deadtime=10, now=200) == [t],\n"
        "          [(x.event_time, x.status) for x in s.get_steps(run, t)],\n"
        "          [d.status for d in s.get_test_data(run, t, 'p%')], s.get_test_data(run, t, 'q'),\n"
        "          'sqlalchemy' in sys.modules, 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["50", "True", "[(7,", "'0')]", "['pass']", "[]", "False", "False"]



def test_writes_on_the_generated_history(area, frozen_time):
    root, (r1, r2, r3, r4), ids = area
    with open_store(root) as s:
        assert s.get_or_create_run(U1, "nightly") == r1
        extra = s.get_or_create_test(r1, "extra", "i/1", state="LAUNCHED", comment="new")
        got = s.get_test(r1, extra)
        assert (got.fullname, got.state, got.comment) == ("extra/i/1", "LAUNCHED", "new")
        assert s.get_test_by_name(r1, "extra").state == "NOT_STARTED"  # the parent row
        assert s.set_tests_state_status(r1, []) == []
        rollups = s.set_tests_state_status(r1, [(extra, "COMPLETED", "PASS", None)])
        assert [(p.state, p.status) for p in rollups] == [("COMPLETED", "PASS")]
        compile_ = s.get_test(r1, ids[r1][("compile", "")])
        assert (compile_.host, compile_.attemptnum, compile_.run_duration) == ("h1", 42, 7)
        s.unlock_run(r3, user="carol")
        assert not s.is_locked(r3)
        s.set_run_state_status(r4, state="deleted")
        assert s.get_or_create_run(U1, "Weekly_2", state="new", status="n/a") == r4
        assert s.get_run(r4).state == "new"
        s.remove_run(r2)
        assert s.get_run(r2) is None and not s.run_path(r2).exists()
        assert _ids(s.find_runs()) == [r1, r3, r4]


def test_lean_errors_match(tmp_path):
    with pytest.raises(StoreError, match="no database"):
        open_store(tmp_path, create=False)
    (tmp_path / "megatest.db").write_bytes(b"")
    with pytest.raises(StoreError, match="db migrate"):
        open_store(tmp_path, fields=FIELDS)
    other = tmp_path / "o"
    with open_store(other, fields=FIELDS) as s:
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
        open_store(other, fields=["RELEASE", "SYSTEM"])
    (other / ".db" / "main.db").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="cannot read this database"):
        open_store(other)


def test_reading_an_area_at_head_imports_neither_sqlalchemy_nor_alembic(area):
    root, runs, _ = area
    code = (
        "import sys\n"
        "from megatest.store import open_store\n"
        f"with open_store({str(root)!r}, fields={FIELDS!r}) as s:\n"
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


def test_runs_and_queries_from_a_new_area_on_skip_sqlalchemy_and_alembic(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "megatest.config").write_text(
        "[fields]\nSYSTEM TEXT\nRELEASE TEXT\n\n[setup]\nmax_concurrent_jobs 2\n"
        "linktree #{getenv MT_RUN_AREA_HOME}/lt\n\n[disks]\ndisk0 #{getenv MT_RUN_AREA_HOME}/runs\n")
    (tmp_path / "runconfigs.config").write_text("[default]\n\n[a/b]\n")
    (tmp_path / "tests" / "t1").mkdir(parents=True)
    (tmp_path / "tests" / "t1" / "testconfig").write_text("[ezsteps]\nstep true\n")
    start = ["--area", str(tmp_path), "runs", "start", "--target", "a/b", "--quiet"]
    for args in ([*start, "--runname", "r1"],  # a new area: its dbs come from the head schema
                 [*start, "--runname", "r2"], ["--area", str(tmp_path), "query", "runs"],
                 ["--area", str(tmp_path), "query", "tests", "--target", "a/b", "--runname", "r2"],
                 ["--area", str(tmp_path), "runs", "get-status", "--target", "a/b",
                  "--runname", "r2"]):
        code, stdout, modules = _imports_of(args, tmp_path)
        assert code == 0, args
        assert "megatest.store.lean" in modules
        assert not {m for m in modules if m.split(".")[0] in ("sqlalchemy", "alembic")}, args
    assert stdout.strip() == "PASS"  # get-status of r2, the last command
    with open_store(tmp_path) as s:
        assert [(r.runname, r.status) for r in s.find_runs()] == [("r1", "PASS"), ("r2", "PASS")]
