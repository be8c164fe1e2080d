"""Running a batch system's commands (sbatch, squeue, bsub, ...) from the runner's loop.

Each call is short (the batch system answers or queues), so it is run to its end with a
bound; whatever goes wrong is a SubmitError in one line naming the command, for the launcher
to put on the tests concerned.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

from megatest.launch.batch import SubmitError

COMMAND_TIMEOUT = 60.0  # seconds: a batch system that does not answer in this is down


def run_command(argv: Sequence[str] | str, *, stdin: str | None = None,
                env: Mapping[str, str] | None = None, cwd: str | None = None,
                ok_codes: Sequence[int] = (0,)) -> str:
    """The command's standard output. `argv` as text is shell text (run by /bin/sh)."""
    shell = isinstance(argv, str)
    name = (argv.split() or ["sh"])[0] if shell else argv[0]
    try:
        proc = subprocess.run(
            ["/bin/sh", "-c", argv] if shell else list(argv), input=stdin, env=env, cwd=cwd,
            capture_output=True, text=True, errors="replace", timeout=COMMAND_TIMEOUT,
        )
    except FileNotFoundError:
        raise SubmitError(f"{name}: command not found (is the batch system's client installed "
                          "on this host, and on PATH?)") from None
    except subprocess.TimeoutExpired:
        raise SubmitError(f"{name}: no answer in {COMMAND_TIMEOUT:g} s") from None
    except OSError as exc:
        raise SubmitError(f"{name}: {exc.strerror or exc}") from None
    if proc.returncode not in ok_codes:
        said = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        detail = said[0] if said else "no message"
        raise SubmitError(f"{name} exited with {proc.returncode}: {detail}")
    return proc.stdout
