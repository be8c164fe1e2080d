"""The launcher an area names, from the command line: the original's local launchers run
here, an unknown one stops the run before anything is registered."""

from __future__ import annotations


def _with_launcher(area, line: str) -> None:
    config = area.root / "megatest.config"
    config.write_text(config.read_text() + f"\n[jobtools]\nlauncher {line}\n")
    (area.root / "tests" / "solo").rename(area.root / "solo-unused")  # keep the run short


def test_an_area_launching_with_nbfake_runs_its_tests_here(make_area):
    area = make_area("exclusive")
    _with_launcher(area, "nbfake")
    area.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r", check=0)
    assert area.table("ubuntu/v1", "r") == {"free": ("COMPLETED", "PASS")}


def test_an_unknown_launcher_is_one_line_and_exit_2_with_nothing_run(make_area):
    area = make_area("exclusive")
    _with_launcher(area, "sleeprunner -q normal -o $MT_TEST_RUN_DIR/lsf.log")
    proc = area.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r", check=2)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "[jobtools] launcher: unknown launcher 'sleeprunner'" in lines[0]
    assert "known launchers: bsub, local (also nbfake, nbfind, nohup), qsub" in lines[0]
    assert not (area.root / ".db").exists()  # refused before the run was registered
