"""Property test: any command line gives exit code 0, 1 or 2 and never a traceback.

The commands run in-process in an empty folder, with no MT_* variable, and may name a copy
of an example area that has never run (so no run starts: its target needs two parts).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from megatest.cli import app as cli_app
from megatest.cli.entry import main

AREAS = Path(__file__).resolve().parents[1] / "areas"

WORDS = [
    "runs", "start", "remove", "query", "runs", "tests", "config", "test", "status", "step",
    "set-values", "db", "--area", "AREA", "--target", "--runname", "--testpatt", "--state",
    "--status", "--rerun", "--format", "json", "ini", "text", "--help", "-h", "--section",
    "--var", "-run", "-runtests", "-target", "-runname", "-testpatt", "-test-status",
    ":state", ":status", "-step", "-show-config", "-section", "-var", "-list-runs",
    "-rerun", "-rerun-clean", "-m", "%", "a/b/c", "ubuntu", "FAIL", "BOGUS", "COMPLETED",
    "", " ", "-", "--", "../nowhere", "setup", "a,b,,c",
]

# what a command line can hold: any bytes but NUL, as Python decodes them (undecodable bytes
# become the surrogates U+DC80-U+DCFF; no other surrogate can reach argv)
arg_text = st.binary(max_size=12).filter(lambda b: b"\0" not in b).map(os.fsdecode)
argv = st.lists(st.one_of(st.sampled_from(WORDS), arg_text), max_size=8)


@pytest.fixture(scope="module")
def area(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("cliprop") / "exclusive"
    shutil.copytree(AREAS / "exclusive", dest)
    return dest


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("MT_"):
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=argv)
@example(args=["runs", "start", "--area", "AREA", "--target", "a/b/c", "--runname", "r",
               "--rerun", "BOGUS"])
@example(args=["-run", "-target", "ubuntu", "-runname", "r", "-rerun", ""])
@example(args=["test", "status", "--state", "BOGUS"])
def test_any_command_line_exits_0_1_or_2_without_a_traceback(isolated, area, capfd, args):
    args = [str(area) if a == "AREA" else a for a in args]
    groups = list(cli_app.app.registered_groups)
    code = main(args)
    # a call leaves the root app as it found it (calls in one process stay as fast)
    assert cli_app.app.registered_groups == groups
    # captured at the file descriptors: the streams stay what a real process writes to
    # (stderr replaces what it cannot encode, as Python's own stderr does)
    out, err = capfd.readouterr()
    assert code in (0, 1, 2), (args, code, err)
    assert "Traceback" not in out + err, (args, err)
