"""Area-level hook commands (e.g. `[runs] pre-hook`): run through /bin/sh, output to a log."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def run_logged(command: str, *, cwd: Path, env: Mapping[str, str], log_path: Path) -> int:
    """Run `command` with `/bin/sh -c` in `cwd`, appending stdout and stderr to `log_path`
    (its folder is created); returns the exit status. stdin is /dev/null so it cannot hang."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.run(
            ["/bin/sh", "-c", command], cwd=cwd, env=dict(env),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False,
        )
    return proc.returncode
