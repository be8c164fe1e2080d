"""A run name full of shell syntax, through the real CLI, reaches `[setup] testcopycmd` as
data: the test's source is copied, the test passes, and the embedded command never runs."""

from __future__ import annotations

import shlex

RUNNAME = "r;touch MARKER;"


def test_a_run_name_with_shell_syntax_is_copied_by_testcopycmd_and_runs_nothing(make_area):
    area = make_area("exclusive")
    (area.root / "tests" / "solo").rename(area.root / "solo-unused")  # keep the run short
    config = area.root / "megatest.config"
    config.write_text(config.read_text() + "\n[setup]\ntestcopycmd cp -r TEST_SRC_PATH/. TEST_TARG_PATH\n")

    area.mt("runs", "start", "--target", "ubuntu/v1", "--runname", RUNNAME, check=0)

    assert area.table("ubuntu/v1", RUNNAME) == {"free": ("COMPLETED", "PASS")}
    assert list(area.root.parent.rglob("MARKER*")) == []
    run_dir = area.root / "runs" / "ubuntu" / "v1" / RUNNAME / "free"
    assert (run_dir / "testconfig").read_text() == (area.root / "tests/free/testconfig").read_text()
    log = (run_dir / "mt_launch.log").read_text()
    assert f"TESTCOPYCMD: cp -r {area.root}/tests/free/. {shlex.quote(str(run_dir))}" in log
