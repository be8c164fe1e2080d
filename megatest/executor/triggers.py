"""testconfig [triggers]: commands fired on state/status changes (run-engine §4).

Keys are `STATE/STATUS`, `STATE/` and `/STATUS`, looked up in that order for each change, so
up to three commands fire. Each runs as `<value> <test-id> <test-rundir> <key>` through
/bin/sh in the run directory, in the background (the shell itself backgrounds it and exits).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING

from megatest.executor.spawn import LAUNCH_LOG

if TYPE_CHECKING:
    import subprocess  # imported where a trigger fires: most tests have none

# trigger shells not reaped yet; they exit as soon as they have backgrounded the command
_pending: list[subprocess.Popen[bytes]] = []


def reap_finished() -> int:
    """Reap trigger shells that have exited (non-blocking); returns how many are still pending."""
    _pending[:] = [p for p in _pending if p.poll() is None]
    return len(_pending)


def matching_triggers(triggers: Mapping[str, str], state: str, status: str) -> list[tuple[str, str]]:
    """The (key, command) pairs a change to state/status fires, in lookup order."""
    found = []
    for key in (f"{state}/{status}", f"{state}/", f"/{status}"):
        cmd = triggers.get(key)
        if cmd is not None and cmd.strip():
            found.append((key, cmd))
    return found


def fire_triggers(
    triggers: Mapping[str, str],
    *,
    state: str,
    status: str,
    test_id: int | None,
    run_dir: str | os.PathLike[str] | None,
    env: Mapping[str, str],
    test_name: str,
    item_path: str = "",
) -> list[subprocess.Popen[bytes]]:
    """Start the commands for this change; returns the (short-lived) shells started.

    They are also kept for `reap_finished()`, which every TestJob.poll calls, so no zombie
    is left behind whoever fired them.

    Nothing fires unless the run directory exists. Output is appended to mt_launch.log in the
    run directory (in the original it went wherever the firing process's stdout went, which for
    a test is that log).
    """
    pairs = matching_triggers(triggers, state, status)
    if not pairs or run_dir is None or not os.path.isdir(run_dir):
        return []
    import subprocess

    run_dir = os.fspath(run_dir)
    trig_env = dict(env)
    trig_env.update(MT_TEST_NAME=test_name, MT_TEST_RUN_DIR=run_dir, MT_ITEMPATH=item_path)
    started = []
    with open(os.path.join(run_dir, LAUNCH_LOG), "ab") as log:
        for key, cmd in pairs:
            test_arg = str(test_id) if test_id is not None else "''"
            line = f"{cmd} {test_arg} {shlex.quote(run_dir)} {shlex.quote(key)}&"
            started.append(
                subprocess.Popen(
                    ["/bin/sh", "-c", line], cwd=run_dir, env=trig_env,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                )
            )
    _pending.extend(started)
    return started
