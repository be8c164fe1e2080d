"""What an area need not say, through the real CLI: a run with no `[setup] linktree` (and no
MT_LINKTREE) links its tests under `<area>/lt`, as the original's author made the default;
a test that writes KILLREQ on itself and exits ends KILLED with the status it gave, and the
run ends instead of waiting for it."""

from __future__ import annotations

import os

TARGET, RUN = "ubuntu/v1", "r1"


def _area(make_area, *, linktree: bool):
    """exclusive's `free` (passes), with or without its linktree line."""
    area = make_area("exclusive")
    (area.root / "tests" / "solo").rename(area.root / "solo-unused")  # keep the run short
    config = area.root / "megatest.config"
    if not linktree:
        lines = config.read_text().splitlines(keepends=True)
        config.write_text("".join(line for line in lines if not line.startswith("linktree")))
    return area


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MT_LINKTREE"}


def test_no_linktree_setting_links_the_tests_under_the_areas_lt_folder(make_area):
    area = _area(make_area, linktree=False)
    proc = area.mt("-run", "-target", TARGET, "-runname", RUN, env=_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert area.table(TARGET, RUN) == {"free": ("COMPLETED", "PASS")}
    link = area.root / "lt" / TARGET / RUN / "free"
    assert link.is_symlink()
    assert link.resolve() == (area.root / "runs" / TARGET / RUN / "free").resolve()


def test_a_test_asking_for_its_own_kill_ends_killed_with_its_status(make_area):
    area = _area(make_area, linktree=True)
    test = area.root / "tests" / "selfkill"
    test.mkdir()
    (test / "testconfig").write_text("[setup]\nrunscript main.sh\n")
    script = test / "main.sh"
    # a non-zero exit keeps the state the test wrote (the original's blocktestxz does this)
    script.write_text("#!/bin/sh\n$MT_MEGATEST -test-status :state KILLREQ :status PASS\nexit 1\n")
    script.chmod(0o755)
    area.mt("-run", "-target", TARGET, "-runname", RUN, check=1)
    rows = area.table(TARGET, RUN)
    assert rows["selfkill"] == ("KILLED", "PASS")  # not INCOMPLETE/DEAD
    assert rows["free"] == ("COMPLETED", "PASS")
