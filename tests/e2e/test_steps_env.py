"""Steps and their environment as the original runs them, through the real CLI: `[env-override]`
values read in each test's environment, a `#` in a step starting a comment as `bash -c`
reads it, and a multi-line step run as one script with its indentation kept."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from tests.e2e.conftest import AreaRunner

TARGET = "ubuntu/v1"


def write_area(root: Path, env_override: str, tests: dict[str, str]) -> AreaRunner:
    """An area with the given `[env-override]` body and tests (name -> testconfig text)."""
    (root / "runs").mkdir(parents=True)
    (root / "megatest.config").write_text(
        "[fields]\nSYSTEM TEXT\nRELEASE TEXT\n\n"
        "[setup]\nmax_concurrent_jobs 4\nlinktree #{getenv MT_RUN_AREA_HOME}/lt\n\n"
        "[disks]\ndisk0 #{getenv MT_RUN_AREA_HOME}/runs\n\n"
        f"[env-override]\n{env_override}\n"
    )
    (root / "runconfigs.config").write_text(f"[default]\n\n[{TARGET}]\n")
    for name, text in tests.items():
        (root / "tests" / name).mkdir(parents=True)
        (root / "tests" / name / "testconfig").write_text(text)
    return AreaRunner(root)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
    return env


def run_dir(area: AreaRunner, runname: str, test: str) -> Path:
    return area.root / "runs" / "ubuntu" / "v1" / runname / test


def test_env_override_sees_the_run_name_as_the_original_test_does(tmp_path):
    """The repro of the issue: `RN rn=#{getenv MT_RUNNAME}` was `rn=#f` in the test."""
    area = write_area(tmp_path / "area", "RN rn=#{getenv MT_RUNNAME}\nSYS_TGT $SYSTEM-$MT_TARGET", {
        "ez_pass": '[ezsteps]\nisrunname echo $RN | grep -v "#f"\n',
    })
    area.mt("runs", "start", "--target", TARGET, "--runname", "r1", check=0, env=clean_env())
    assert area.table(TARGET, "r1") == {"ez_pass": ("COMPLETED", "PASS")}
    snapshot = (run_dir(area, "r1", "ez_pass") / "megatest.sh").read_text()
    assert "export RN='rn=r1'\n" in snapshot
    assert "export SYS_TGT='ubuntu-ubuntu/v1'\n" in snapshot


def test_env_override_naming_a_per_test_variable_is_read_for_each_test(tmp_path):
    area = write_area(
        tmp_path / "area",
        "WHO #{getenv MT_TEST_NAME}/#{getenv MT_ITEMPATH}\nFROM_ITEM item-$COLOR",
        {
            "alpha": "[ezsteps]\nshow echo $WHO $FROM_ITEM\n",
            "beta": "[items]\nCOLOR red blue\n\n[ezsteps]\nshow echo $WHO $FROM_ITEM\n",
        },
    )
    area.mt("runs", "start", "--target", TARGET, "--runname", "r2", check=0, env=clean_env())
    assert set(area.table(TARGET, "r2").values()) == {("COMPLETED", "PASS")}
    logs = {test: (run_dir(area, "r2", test) / "show.log").read_text()
            for test in ("alpha", "beta/red", "beta/blue")}
    assert logs == {"alpha": "alpha/ item-\n", "beta/red": "beta/red item-red\n",
                    "beta/blue": "beta/blue item-blue\n"}


def test_a_hash_in_a_step_starts_a_comment_as_in_bash(tmp_path):
    """`#` after a blank begins a comment for `bash -c`; a word holding `#` does not; a
    builtin with arguments is bash's."""
    area = write_area(tmp_path / "area", "", {
        "hashes": "[ezsteps]\ncomment printf '<%s>' a #f b\nword printf '<%s>' a#f\n"
                  "builtin true --version\n",
    })
    area.mt("runs", "start", "--target", TARGET, "--runname", "r3", check=0, env=clean_env())
    assert area.table(TARGET, "r3") == {"hashes": ("COMPLETED", "PASS")}
    assert (run_dir(area, "r3", "hashes") / "comment.log").read_text() == "<a>"
    assert (run_dir(area, "r3", "hashes") / "word.log").read_text() == "<a#f>"
    # bash's own `true`, which prints nothing, not the program that answers --version
    assert (run_dir(area, "r3", "hashes") / "builtin.log").read_text() == ""


def test_a_multi_line_step_runs_as_one_script_with_its_indentation(tmp_path):
    testconfig = textwrap.dedent("""\
        [ezsteps]
        loop for i in 1 2; do
               echo "n=$i"
             done
        heredoc cat <<EOF > here.txt
          first
            second, indented
          EOF
        inline
          python3 -c '
          for n in range(2):
              print("py", n)
          '
        last test -s here.txt
        """)
    area = write_area(tmp_path / "area", "", {"multi": testconfig})
    area.mt("runs", "start", "--target", TARGET, "--runname", "r4", check=0, env=clean_env())
    assert area.table(TARGET, "r4") == {"multi": ("COMPLETED", "PASS")}
    where = run_dir(area, "r4", "multi")
    assert (where / "loop.log").read_text() == "n=1\nn=2\n"
    assert (where / "here.txt").read_text() == "first\n  second, indented\n"
    assert (where / "inline.log").read_text() == "py 0\npy 1\n"
    makefile = (where / "Makefile.ezsteps").read_text()
    assert "\t/bin/bash ./inline.ezstep.sh > inline.log 2>&1\n" in makefile
    assert (where / "inline.ezstep.sh").read_text().endswith(
        "python3 -c '\nfor n in range(2):\n    print(\"py\", n)\n'\n")
