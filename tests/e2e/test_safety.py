"""`runs remove` deletes only what is the area's own."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from megatest.store import open_store

TARGET = "ubuntu/v1"


def _one_test(area) -> None:
    shutil.rmtree(area.root / "tests" / "solo")  # keep `free`, a test whose step is `true`


def test_a_test_that_never_got_a_directory_deletes_nothing_on_remove(make_area):
    area = make_area("exclusive")
    _one_test(area)
    shutil.rmtree(area.root / "runs")  # the only disk is gone: the launch fails
    area.mt("runs", "start", "--target", TARGET, "--runname", "r", check=1)
    assert area.table(TARGET, "r")["free"] == ("INCOMPLETE", "ABORT")
    # the schema's default run directory of a row that never had one
    badname = Path("/tmp/badname")
    marker = badname / f"megatest-test-{uuid.uuid4().hex}"
    made = not badname.exists()
    marker.mkdir(parents=True)
    try:
        area.mt("runs", "remove", "--target", TARGET, "--runname", "r", check=0)
        assert marker.is_dir()
    finally:
        marker.rmdir()
        if made:
            badname.rmdir()


def test_a_directory_outside_the_area_is_refused_and_its_test_kept(make_area, tmp_path):
    area = make_area("exclusive")
    _one_test(area)
    area.mt("runs", "start", "--target", TARGET, "--runname", "r", check=0)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data").write_text("keep me")
    with open_store(area.root, create=False) as store:  # a damaged or hand-edited row
        run_id = store.find_runs(TARGET, "r")[0].id
        test = store.get_test_by_name(run_id, "free")
        store.update_test_fields(run_id, test.id, shortdir=str(precious))
    proc = area.mt("runs", "remove", "--target", TARGET, "--runname", "r", check=2)
    last = proc.stderr.strip().splitlines()[-1]
    assert "not removed" in last and "free" in last and "Traceback" not in proc.stderr
    assert f"refused to delete {precious}" in proc.stdout + proc.stderr
    assert (precious / "data").read_text() == "keep me"
    assert area.table(TARGET, "r") == {"free": ("COMPLETED", "PASS")}  # the record stays


def test_run_names_and_targets_that_would_escape_or_nest_are_refused(make_area):
    area = make_area("exclusive")
    for target, runname in [(TARGET, "x/y"), (TARGET, ".."), (TARGET, "."),
                            ("ubuntu/..", "r"), ("ubuntu//v1", "r")]:
        proc = area.mt("runs", "start", "--target", target, "--runname", runname, check=2)
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        assert len(lines) == 1 and ("--runname" in lines[0] or "--target" in lines[0]), lines
    legacy = area.mt("-run", "-target", TARGET, "-runname", "x/y", check=2)
    assert "a run name may not hold '/'" in legacy.stdout + legacy.stderr
    assert not (area.root / ".db").exists()  # nothing was registered


def test_what_the_system_refuses_is_one_line_naming_the_file(make_area):
    area = make_area("exclusive")
    (area.root / ".db").write_text("")  # a file where the database folder belongs
    proc = area.mt("runs", "start", "--target", TARGET, "--runname", "r", check=2)
    assert proc.stderr.strip().splitlines() == [
        f"megatest: error: {area.root / '.db'}: file exists; something else stands where "
        "megatest makes this"]
    assert (area.root / ".db").read_text() == ""


def test_a_helper_with_a_damaged_id_variable_says_which(make_area):
    import os

    area = make_area("exclusive")
    env = {**os.environ, "MT_RUN_AREA_HOME": str(area.root), "MT_TEST_NAME": "free",
           "MT_RUN_ID": "xyz", "MT_TEST_ID": "1"}
    proc = area.mt("-test-status", ":state", "COMPLETED", ":status", "PASS", env=env, check=2)
    assert proc.stderr.strip() == (
        "megatest: error: MT_RUN_ID='xyz' is not a run or test id (the runner sets it)")


def test_minspace_0_means_no_minimum(make_area):
    area = make_area("exclusive")
    _one_test(area)
    script = area.root / "free.sh"
    script.write_text("#!/bin/sh\necho 5\n")  # 5 KB free on every disk
    script.chmod(0o755)
    config = area.root / "megatest.config"
    config.write_text(config.read_text().replace(
        "[setup]\n", f"[setup]\nminspace 0\nfree-space-script {script}\n", 1))
    area.mt("runs", "start", "--target", TARGET, "--runname", "r", check=0)
    assert area.table(TARGET, "r") == {"free": ("COMPLETED", "PASS")}
