"""`$MT_MEGATEST -runstep NAME [-logpro RULES] [-m COMMENT] COMMAND...` from inside a test.

What the original does (run-engine §3.3), in the current directory: a `start` step row, the
command with its output in NAME.log, optionally the log judged by RULES (NAME.html, NAME.dat
and the summary in NAME_logpro.log; the test's log becomes NAME.html), then an `end` step row
whose status is the exit code (logpro's when rules are given). The helper then exits with that
code, 3 for anything above 2, as the original did, so `$?` can feed `-test-status :status $?`.

Two choices differ from the original on purpose: the command's stderr goes to NAME.log with
its stdout (the original's bash form sent stderr to the terminal), and several command words
are quoted as the arguments of one program (one word is shell text, as it always was).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from megatest.errors import ConfigError

TYPE_CHECKING = False  # not typing's: a helper call pays for every import
if TYPE_CHECKING:
    from megatest.store.interface import RunWriter


def run_step(writer: RunWriter, test_id: int, opts: Mapping[str, str], command: Sequence[str]) -> int:
    """Run the step (name and command checked by the helpers' parser); return the helper's
    exit code (0, 1, 2, or 3 for anything else)."""
    from megatest import verbosity

    name = opts["name"]
    comment = opts.get("comment", "")
    logfile = f"{name}.log"
    text = command[0] if len(command) == 1 else _joined(command)
    writer.add_step(test_id, name, "start", "n/a", logfile, comment)
    verbosity.detail(2, f"running {text!r} in {os.getcwd()}, output in {logfile}")
    with open(logfile, "wb") as log:
        rc = subprocess.run(text, shell=True, stdout=log, stderr=subprocess.STDOUT).returncode
    code = 128 - rc if rc < 0 else rc  # killed by signal N: the shell's 128+N
    if opts.get("logpro"):
        code = _judge(opts["logpro"], name)
        writer.update_fields(test_id, final_logf=f"{name}.html")
    writer.add_step(test_id, name, "end", str(code), logfile, comment)
    verbosity.detail(2, f"step {name} ended with {code}")
    return code if code in (0, 1, 2) else 3


def _joined(words: Sequence[str]) -> str:
    import shlex

    return shlex.join(words)


def _judge(rules: str, name: str) -> int:
    """logpro's verdict on NAME.log (0 PASS, 1 FAIL, 2 WARN, ...); 1 for rules it cannot read."""
    from megatest.executor import logpro

    summary = f"{name}_logpro.log"
    try:
        result = logpro.run_logpro(rules, f"{name}.log", f"{name}.html", env=dict(os.environ))
    except ConfigError as exc:
        with open(summary, "w") as fh:
            fh.write(f"ERROR: {exc.one_line()}\n")
        print(f"megatest: warning: -runstep {name}: {exc.one_line()}", file=sys.stderr)
        return 1
    with open(summary, "w") as fh:
        fh.write(logpro.summary_text(result))
    return result.exit_code
