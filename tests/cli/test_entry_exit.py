"""The console script ends without interpreter teardown, yet nothing it printed is lost."""

from __future__ import annotations

import os
import subprocess
import sys

SNIPPET = """
import sys
from megatest.cli.entry import exit_now
sys.stdout.write("o" * 200000)  # more than any buffer: part of it is still unwritten
sys.stderr.write("e" * 1000)
exit_now(3)
"""


def test_exit_now_flushes_what_was_printed_and_keeps_the_code():
    done = subprocess.run([sys.executable, "-c", SNIPPET], capture_output=True, text=True)
    assert done.returncode == 3
    assert done.stdout == "o" * 200000
    assert done.stderr == "e" * 1000


def test_python_dash_m_and_the_installed_script_answer_and_exit(tmp_path):
    for cmd in ([sys.executable, "-m", "megatest", "--version"],
                [sys.executable, "-m", "megatest", "runs", "nosuch"]):
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
        if cmd[-1] == "--version":
            assert done.returncode == 0 and done.stdout.startswith("megatest ")
        else:
            assert done.returncode == 2 and "No such command 'nosuch'" in done.stderr


def test_a_reader_that_went_away_gives_no_traceback():
    # `megatest ... | head -1` once the reader is gone: what is left is dropped quietly and the
    # exit code stays the command's (Python's own teardown would print a BrokenPipeError)
    code = """
import sys
from megatest.cli.entry import exit_now
sys.stdout.write("still buffered")  # a pipe is block-buffered: not written yet
sys.stdin.readline()  # the reader closes its end first
exit_now(3)
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    err = proc.stderr.read()
    assert proc.wait() == 3
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_output_that_cannot_be_written_is_an_error_not_silence():
    code = """
import sys
from megatest.cli.entry import exit_now
sys.stdout.write("lost")
exit_now(0)
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", code], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=env)
    assert done.returncode == 1
    assert "megatest: error: output not written: No space left on device" in done.stderr


TYPER_LOADS = """
import sys
from megatest.cli import entry
entry.before_typer = lambda: print("typer hook", file=sys.stderr)
sys.exit(entry.main(sys.argv[1:]))
"""


def test_only_commands_that_use_typer_load_it(tmp_path):
    """The binary loads Typer through the hook: a test's helper calls and `test execute`, run
    by the hundred, and `--version` must not pay for it; other commands must load it."""
    def hook_ran(*args: str) -> bool:
        done = subprocess.run([sys.executable, "-c", TYPER_LOADS, *args], capture_output=True,
                              text=True, cwd=tmp_path, env={**os.environ, "MT_RUN_AREA_HOME": ""})
        return "typer hook" in done.stderr

    assert not hook_ran("--version")
    assert not hook_ran("test", "execute", "--job", str(tmp_path / "none.json"))
    assert not hook_ran("-test-status", "-state", "COMPLETED", "-status", "PASS")
    assert hook_ran("runs", "nosuch")
    assert hook_ran("-list-runs", "%")
