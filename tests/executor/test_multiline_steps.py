"""A multi-line `[ezsteps]` entry is one script: its Makefile.ezsteps rule runs the same text
from `<step>.ezstep.sh`, so `make -f Makefile.ezsteps <step>` redoes what the run did."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from megatest.executor.steps import StepSpec, write_step_files

SCRIPT = "for i in 1 2; do\necho \"n=$i\"\n  done\ncat <<EOF\n  kept\nEOF"


def test_a_multi_line_step_gets_a_script_file_its_make_rule_runs(tmp_path):
    step = StepSpec.from_config("loop", "{x=1} " + SCRIPT)
    write_step_files(str(tmp_path), [step, StepSpec("one", "true")])
    assert (tmp_path / "loop.ezstep.sh").read_text() == SCRIPT + "\n"
    makefile = (tmp_path / "Makefile.ezsteps").read_text()
    assert "loop.log :\n\t/bin/bash ./loop.ezstep.sh > loop.log 2>&1\n" in makefile
    assert "one.log :\n\ttrue > one.log 2>&1\n" in makefile  # one-line steps as before
    assert not (tmp_path / "one.ezstep.sh").exists()
    if shutil.which("make") is None:
        pytest.skip("no make here")
    subprocess.run(["make", "-s", "-f", "Makefile.ezsteps", "loop"], cwd=tmp_path, check=True)
    assert (tmp_path / "loop.log").read_text() == "n=1\nn=2\n  kept\n"
    via_bash = subprocess.run(["/bin/bash", "-c", step.command], cwd=tmp_path, capture_output=True,
                              text=True, check=True)
    assert via_bash.stdout == "n=1\nn=2\n  kept\n"  # what the run's `bash -c` gives
