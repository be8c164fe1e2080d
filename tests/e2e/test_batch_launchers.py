"""The batch launchers on real areas through the real CLI: Slurm (a real single-node Slurm,
scripts/slurm/up.sh), PBS through Debian's slurm-wlm-torque qsub/qstat/qdel on that Slurm,
and LSF through small fake bsub/bjobs/bkill commands (tests/launch/fakelsf). The Slurm and
PBS tests skip, saying why, when no Slurm answers here."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
from pathlib import Path

import pytest

from megatest.launch.jobfile import EXIT_FILE, JOB_FILE, read_job_id
from tests.e2e.conftest import wait_for

TARGET = "x/y"
FAKE_LSF = Path(__file__).resolve().parents[1] / "launch" / "fakelsf"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo"
UP = Path(__file__).resolve().parents[2] / "scripts" / "slurm" / "up.sh"


def _slurm_conf() -> str | None:
    """The SLURM_CONF of a Slurm whose node takes jobs (scripts/slurm/up.sh --check)."""
    try:
        out = subprocess.run(["sh", str(UP), "--check"], capture_output=True, text=True,
                             timeout=30)
    except subprocess.TimeoutExpired:
        return None
    conf = out.stdout.strip().partition("=")[2]
    return conf if out.returncode == 0 and conf else None


@pytest.fixture
def slurm(monkeypatch):
    conf = _slurm_conf()
    if conf is None:
        pytest.skip("Slurm is not up here: start it with scripts/slurm/up.sh (as root; "
                    ".ci/run does)")
    monkeypatch.setenv("SLURM_CONF", conf)
    return conf


@pytest.fixture
def fake_lsf(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", f"{FAKE_LSF}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LSF_DIR", str(tmp_path / "lsf-state"))


def with_launcher(area, lines: str):
    config = area.root / "megatest.config"
    config.write_text(config.read_text() + f"\n[jobtools]\n{lines}\n")
    return area


def squeue(name_part: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%j %i %T"], capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if name_part in line]


def read_until(proc, text: str, timeout: float = 90) -> str:
    """What `proc` printed until `text` showed (read from its pipe as it comes; what it
    prints later is left for communicate())."""
    fd = proc.stdout.fileno()
    said = bytearray()

    def seen() -> bool:
        while select.select([fd], [], [], 0)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            said.extend(chunk)
        return text.encode() in said or proc.poll() is not None

    wait_for(seen, timeout=timeout)
    return said.decode(errors="replace")


def runner_pid(area) -> int:
    locks = list((area.root / ".db").glob("runner-*.lock"))
    return int(wait_for(lambda: locks and locks[0].read_text().strip(), timeout=90))


def example_area(tmp_path, name: str):
    from tests.e2e.conftest import AreaRunner, copy_area

    return AreaRunner(copy_area(EXAMPLE, tmp_path / name))


# -- every launcher, the same results ---------------------------------------------------------

LAUNCHERS = {
    "local": "launcher nbfake",
    "slurm": "launcher slurm",
    "pbs": "launcher qsub -q debug",
    "lsf": "launcher bsub -q normal -o $MT_TEST_RUN_DIR/lsf.log",
    "slurm-bundles": "launcher slurm\n\n[slurm]\ntests-per-job 3",
    "lsf-bundles": "launcher bsub -q normal\n\n[bsub]\ntests-per-job 3",
}


@pytest.mark.parametrize("kind", ["slurm", "pbs", "lsf"])
def test_the_example_area_ends_as_it_does_locally(kind, tmp_path, request, fake_lsf):
    if kind != "lsf":
        request.getfixturevalue("slurm")
    tables = {}
    for name in ("local", kind):
        area = with_launcher(example_area(tmp_path, name), LAUNCHERS[name])
        area.mt("runs", "start", "--target", "ubuntu/gcc12", "--runname", "r1", timeout=300,
                check=0)
        tables[name] = area.table("ubuntu/gcc12", "r1")
    assert len(tables["local"]) == 16
    assert tables[kind] == tables["local"]


@pytest.mark.parametrize("kind", ["slurm", "slurm-bundles", "pbs", "lsf", "lsf-bundles"])
def test_the_batch_area_ends_as_it_does_locally(kind, tmp_path, request, fake_lsf):
    if not kind.startswith("lsf"):
        request.getfixturevalue("slurm")
    from tests.e2e.conftest import AREAS, AreaRunner, copy_area

    rows = {}
    for name in ("local", kind):
        area = AreaRunner(copy_area(AREAS / "batch", tmp_path / name))
        with_launcher(area, LAUNCHERS[name])
        area.mt("runs", "start", "--target", TARGET, "--runname", "r1", timeout=300, check=1)
        rows[name] = {(r["test"], r["item"]): (r["state"], r["status"], r["comment"])
                      for r in area.rows(TARGET, "r1")}
        assert sorted(area.ran()) == ["quick/a", "quick/b", "quick/c"]
    assert rows[kind] == rows["local"]
    assert rows[kind][("fails", "")] == ("COMPLETED", "FAIL", "Failed at step broken")
    assert rows[kind][("after", "")][:2] == ("COMPLETED", "PASS")


def test_a_failing_submission_ends_the_tests_with_the_systems_message(make_area, slurm):
    area = with_launcher(make_area("batch"), "launcher slurm\n\n[slurm]\npartition nosuch")
    proc = area.mt("runs", "start", "--target", TARGET, "--runname", "r1",
                   "--testpatt", "fails", timeout=120, check=1)
    (state, status), = area.table(TARGET, "r1").values()
    assert (state, status) == ("INCOMPLETE", "ABORT")
    comment = area.rows(TARGET, "r1")[0]["comment"]
    assert comment.startswith("launch failed: sbatch exited with 1: ")
    assert "partition" in comment.lower(), proc.stdout


# -- kills ------------------------------------------------------------------------------------

def state_of(area, runname: str, test: str) -> str:
    """The test's state now ("" while the run has no row for it yet)."""
    proc = area.mt("query", "tests", "--target", TARGET, "--runname", runname,
                   "--format", "json")
    if proc.returncode != 0:
        return ""
    return next((r["state"] for r in json.loads(proc.stdout) if r["test"] == test), "")


def _start_long(area):
    runner = area.start("runs", "start", "--target", TARGET, "--runname", "k",
                        "--testpatt", "long")
    wait_for(lambda: state_of(area, "k", "long") == "RUNNING", timeout=90)
    return runner


def test_runs_kill_cancels_the_slurm_job(make_area, slurm):
    area = with_launcher(make_area("batch"), "launcher slurm")
    runner = _start_long(area)
    assert squeue("mt")  # its job runs
    job = read_job_id(str(area.root / "runs" / TARGET / "k" / "long"))
    limit = subprocess.run(["squeue", "-h", "-j", job, "-o", "%l"], capture_output=True,
                           text=True)
    # asked for by the test's runtimelim (10m), with a minute to stop it and say so
    assert limit.stdout.split() == ["11:00"]
    area.mt("runs", "kill", "--target", TARGET, "--runname", "k", check=0)
    out, _ = runner.communicate(timeout=120)
    assert area.table(TARGET, "k") == {"long": ("KILLED", "KILLED")}, out
    assert area.rows(TARGET, "k")[0]["comment"] == "KILLREQ"
    job = read_job_id(str(area.root / "runs" / TARGET / "k" / "long"))
    assert job not in [line.split()[1] for line in squeue("")]  # no longer queued or running


def test_a_job_cancelled_behind_megatests_back_ends_killed_with_the_reason(make_area, slurm):
    area = with_launcher(make_area("batch"), "launcher slurm")
    runner = _start_long(area)
    job = read_job_id(str(area.root / "runs" / TARGET / "k" / "long"))
    subprocess.run(["scancel", job], check=True)
    out, _ = runner.communicate(timeout=120)  # nothing waits forever
    assert area.table(TARGET, "k") == {"long": ("KILLED", "KILLED")}, out
    assert area.rows(TARGET, "k")[0]["comment"] == f"slurm job {job} was cancelled (CANCELLED)"


def test_runs_kill_reaches_lsf_jobs_through_bkill(make_area, fake_lsf):
    area = with_launcher(make_area("batch"), LAUNCHERS["lsf"])
    runner = _start_long(area)
    area.mt("runs", "kill", "--target", TARGET, "--runname", "k", check=0)
    out, _ = runner.communicate(timeout=120)
    assert area.table(TARGET, "k") == {"long": ("KILLED", "KILLED")}, out
    from megatest.launch.local import leftover_processes

    # the step (`sleep 300`) is gone with its job
    assert wait_for(lambda: not leftover_processes(str(area.root), TARGET, "k"), timeout=30)


# -- a runner dies, the next one takes over -------------------------------------------------

@pytest.mark.parametrize("kind", ["slurm", "lsf", "lsf-sync", "srun"])
def test_a_new_runner_adopts_the_jobs_instead_of_submitting_them_again(kind, make_area,
                                                                       request, fake_lsf):
    if kind in ("slurm", "srun"):
        request.getfixturevalue("slurm")
    lines = {**LAUNCHERS, "lsf-sync": "launcher bsub -K -q normal",
             "srun": "launcher srun"}  # blocking submits: their processes are the jobs
    area = with_launcher(make_area("batch"), lines[kind])
    first = area.start("runs", "start", "--target", TARGET, "--runname", "a",
                       "--testpatt", "slow")
    wait_for(lambda: len(area.ran()) == 3, timeout=90)  # every item's job runs, held
    slow = area.root / "runs" / TARGET / "a" / "slow"
    jobs = {n: read_job_id(str(slow / n)) for n in ("1", "2", "3")}
    os.kill(runner_pid(area), signal.SIGKILL)
    first.communicate(timeout=60)
    second = area.start("runs", "start", "--target", TARGET, "--runname", "a",
                        "--testpatt", "slow")
    said = read_until(second, "of its tests carried on")  # the jobs still held: no exit file
    assert "a runner of this run died: 3 of its tests carried on, 0 to run again" in said
    (area.root / "go").touch()
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0, said + out
    assert sorted(area.ran()) == ["slow/1", "slow/2", "slow/3"]  # each ran once
    assert {n: read_job_id(str(slow / n)) for n in jobs} == jobs  # no job submitted again
    assert set(area.table(TARGET, "a").values()) == {("COMPLETED", "PASS")}


# -- the node side ----------------------------------------------------------------------------

def test_a_job_file_runs_again_through_the_legacy_execute_form(make_area, fake_lsf):
    area = with_launcher(make_area("batch"), LAUNCHERS["lsf"])
    area.mt("runs", "start", "--target", TARGET, "--runname", "e", "--testpatt", "quick",
            check=0)
    run_dir = area.root / "runs" / TARGET / "e" / "quick" / "a"
    (run_dir / EXIT_FILE).unlink()
    area.mt("-execute", str(run_dir / JOB_FILE), check=0)
    assert (run_dir / EXIT_FILE).exists()
    assert area.ran().count("quick/a") == 2


def test_execute_without_a_usable_job_file_is_one_line(make_area, tmp_path):
    area = make_area("batch")
    proc = area.mt("test", "execute", "--job", str(tmp_path / "nothing.json"), check=2)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing.json" in lines[0], proc.stderr


# -- the original's launcher lines ------------------------------------------------------------

def test_launchers_patterns_send_tests_to_their_own_queue_line(make_area, fake_lsf):
    area = with_launcher(make_area("batch"), "\n".join([
        "launcher bsub -q normal -o $MT_TEST_RUN_DIR/normal.log",
        "flexi-launcher yes", "", "[host-types]",
        "short bsub -q short -o $MT_TEST_RUN_DIR/short.log", "", "[launchers]", "quick short"]))
    area.mt("runs", "start", "--target", TARGET, "--runname", "f", "--testpatt", "quick,fails",
            check=1)
    runs = area.root / "runs" / TARGET / "f"
    assert (runs / "quick" / "a" / "short.log").exists()
    assert not (runs / "quick" / "a" / "normal.log").exists()
    assert (runs / "fails" / "normal.log").exists()


def test_one_run_sends_tests_to_launchers_of_different_kinds_and_ends_as_locally(
        tmp_path, fake_lsf):
    from tests.e2e.conftest import AREAS, AreaRunner, copy_area

    rows = {}
    for name, lines in {"local": LAUNCHERS["local"], "mixed": "\n".join([
            "launcher nbfake", "flexi-launcher yes", "", "[host-types]",
            "lsf bsub -q normal -o $MT_TEST_RUN_DIR/lsf.log", "", "[launchers]", "quick lsf",
            "fails lsf"])}.items():
        area = AreaRunner(copy_area(AREAS / "batch", tmp_path / name))
        with_launcher(area, lines)
        area.mt("runs", "start", "--target", TARGET, "--runname", "m", timeout=300, check=1)
        rows[name] = {(r["test"], r["item"]): (r["state"], r["status"], r["comment"])
                      for r in area.rows(TARGET, "m")}
    assert rows["mixed"] == rows["local"]
    runs = tmp_path / "mixed" / "runs" / TARGET / "m"
    assert read_job_id(str(runs / "quick" / "a")) and read_job_id(str(runs / "fails"))
    assert (runs / "fails" / "lsf.log").exists()
    assert read_job_id(str(runs / "after")) is None  # the local launcher ran it


def test_a_blocking_bsub_waits_in_a_child_and_ends_as_the_exit_file_says(make_area, fake_lsf):
    area = with_launcher(make_area("batch"), "launcher bsub -K -q normal")
    area.mt("runs", "start", "--target", TARGET, "--runname", "s", "--testpatt", "quick,fails",
            check=1)
    assert area.table(TARGET, "s") == {
        "quick": ("COMPLETED", "PASS"), "quick/a": ("COMPLETED", "PASS"),
        "quick/b": ("COMPLETED", "PASS"), "quick/c": ("COMPLETED", "PASS"),
        "fails": ("COMPLETED", "FAIL")}
    job = read_job_id(str(area.root / "runs" / TARGET / "s" / "fails"))
    assert job.startswith("pid")  # the blocking bsub was the handle


def test_an_lsf_job_killed_behind_megatests_back_ends_killed_with_lsfs_word(make_area, fake_lsf):
    area = with_launcher(make_area("batch"), LAUNCHERS["lsf"])
    runner = _start_long(area)
    run_dir = area.root / "runs" / TARGET / "k" / "long"
    subprocess.run(["bkill", read_job_id(str(run_dir))], check=True, capture_output=True)
    out, _ = runner.communicate(timeout=120)
    assert area.table(TARGET, "k") == {"long": ("KILLED", "KILLED")}, out
    comment = area.rows(TARGET, "k")[0]["comment"]
    assert comment.startswith(f"bsub job {read_job_id(str(run_dir))} "), comment
    assert json.loads((run_dir / EXIT_FILE).read_text())["signal"] == signal.SIGTERM


def test_a_cancelled_bundle_ends_all_its_tests_killed_and_starts_no_more(make_area, slurm):
    area = with_launcher(make_area("batch"), LAUNCHERS["slurm-bundles"])
    runner = area.start("runs", "start", "--target", TARGET, "--runname", "b",
                        "--testpatt", "slow")
    wait_for(lambda: len(area.ran()) == 1, timeout=90)  # the bundle's first test runs, held
    job = read_job_id(str(area.root / "runs" / TARGET / "b" / "slow" / "1"))
    assert {read_job_id(str(area.root / "runs" / TARGET / "b" / "slow" / n))
            for n in ("2", "3")} == {job}  # one array task for the three
    subprocess.run(["scancel", job], check=True)
    out, _ = runner.communicate(timeout=120)
    table = area.table(TARGET, "b")
    assert {table[f"slow/{n}"] for n in ("1", "2", "3")} == {("KILLED", "KILLED")}, out
    assert len(area.ran()) == 1  # the others never started


def test_a_first_run_probes_and_a_rerun_bundles_the_cheap_tests(make_area, slurm):
    area = with_launcher(make_area("batch"), "launcher slurm\n\n[slurm]\nslots 1")
    quick = {run: area.root / "runs" / TARGET / run / "quick" for run in ("first", "again")}
    area.mt("runs", "start", "--target", TARGET, "--runname", "first", "--testpatt", "quick",
            timeout=300)
    a, b, c = (read_job_id(str(quick["first"] / n)) for n in "abc")
    assert a != b == c  # no history: one alone (a slot's worth), the rest bundled by its time
    proc = area.mt("runs", "start", "--target", TARGET, "--runname", "again", "--testpatt",
                   "quick", "-debug", "2", timeout=300)
    assert len({read_job_id(str(quick["again"] / n)) for n in "abc"}) == 1
    assert "slurm: 3 tests in 1 array task (" in proc.stderr
    assert set(area.table(TARGET, "again").values()) == {("COMPLETED", "PASS")}
    assert sorted(area.ran()) == ["quick/a", "quick/a", "quick/b", "quick/b", "quick/c",
                                  "quick/c"]


def test_lsf_bundles_cheap_tests_when_its_section_gives_the_slots(make_area, fake_lsf):
    area = with_launcher(make_area("batch"), LAUNCHERS["lsf"] + "\n\n[bsub]\nslots 1")
    quick = {run: area.root / "runs" / TARGET / run / "quick" for run in ("first", "again")}
    for run in quick:
        area.mt("runs", "start", "--target", TARGET, "--runname", run, "--testpatt", "quick",
                timeout=300)
    a, b, c = (read_job_id(str(quick["first"] / n)) for n in "abc")
    assert a != b == c  # no history: one probes, the others go together once it ended
    assert len({read_job_id(str(quick["again"] / n)) for n in "abc"}) == 1  # one job
    assert set(area.table(TARGET, "again").values()) == {("COMPLETED", "PASS")}
    assert sorted(area.ran()) == sorted(["quick/a", "quick/b", "quick/c"] * 2)
