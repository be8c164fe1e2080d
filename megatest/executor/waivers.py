"""Waiver propagation (run-engine §3.5): a FAIL may inherit WAIVED from the previous run.

The engine finds the previous run's record of the same test/item (same target, most recent
first) through the store; this module decides whether the waiver applies. TestJob calls a
`WaiverHook` whenever it is about to write FAIL; `make_waiver_hook` builds one from the
testconfig sections and a lookup of the previous record.
"""

from __future__ import annotations

import glob
import os
import subprocess
from collections.abc import Callable, Mapping
from typing import NamedTuple

from megatest.errors import ConfigError
from megatest.executor.reporter import TestRef
from megatest.executor.templates import fill_template

# (test, comment being written) -> (new status, new comment) or None to keep FAIL
WaiverHook = Callable[[TestRef, str | None], tuple[str, str | None] | None]


class PreviousRecord(NamedTuple):
    state: str
    status: str
    comment: str | None
    run_dir: str


def _glob_one(directory: str, pattern: str) -> str:
    matches = sorted(glob.glob(os.path.join(directory, pattern)))
    return matches[0] if matches else os.path.join(directory, pattern)


def _run_rule(
    waiver: str, rule_cmd: str | None, file1: str, file2: str, run_dir: str, env: Mapping[str, str]
) -> bool:
    logpro_file = os.path.join(run_dir, f"{waiver}.logpro")
    if rule_cmd is None and os.path.exists(logpro_file):
        # the built-in "logpro" rule: diff the files and judge the diff, in-process
        diff = subprocess.run(
            ["diff", file1, file2], cwd=run_dir, env=dict(env), stdin=subprocess.DEVNULL,
            capture_output=True, check=False,
        )
        diff_log = os.path.join(run_dir, f"{waiver}.diff")
        with open(diff_log, "wb") as fh:
            fh.write(diff.stdout)
        from megatest.executor import logpro  # only waivers with rule files pay for it

        try:
            result = logpro.run_logpro(
                logpro_file, diff_log, os.path.join(run_dir, f"{waiver}.html"), env=env
            )
        except ConfigError:
            return False
        return result.exit_code == 0
    # the file names and the waiver name reach the rule as data (megatest.executor.templates)
    template = rule_cmd if rule_cmd is not None else "diff %file1% %file2%"
    cmd = fill_template(template, {"%file1%": file1, "%file2%": file2, "%waivername%": waiver})
    proc = subprocess.run(
        cmd.argv, cwd=run_dir, env=cmd.environ(env), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )
    return proc.returncode == 0


def waiver_applies(
    waivers: Mapping[str, str],
    waiver_rules: Mapping[str, str],
    *,
    run_dir: str,
    previous_run_dir: str,
    env: Mapping[str, str],
) -> bool:
    """Every `[waivers] <name> <rule> <glob>` entry passes in the current vs previous run dir.

    No [waivers] entries means no propagation.
    """
    if not waivers:
        return False
    for name, value in waivers.items():
        parts = value.split(None, 1)
        if len(parts) != 2:
            raise ConfigError(f"[waivers] {name}: expected '<rulename> <file-glob>', got {value!r}")
        rulename, pattern = parts[0], parts[1].strip()
        file1 = _glob_one(run_dir, pattern)
        file2 = _glob_one(previous_run_dir, pattern)
        if not _run_rule(name, waiver_rules.get(rulename), file1, file2, run_dir, env):
            return False
    return True


def make_waiver_hook(
    waivers: Mapping[str, str],
    waiver_rules: Mapping[str, str],
    *,
    run_dir: str,
    env: Mapping[str, str],
    previous: Callable[[TestRef], PreviousRecord | None],
) -> WaiverHook | None:
    """A hook for TestJob, or None when the testconfig has no [waivers]."""
    if not waivers:
        return None

    def hook(test: TestRef, comment: str | None) -> tuple[str, str | None] | None:
        prev = previous(test)
        if prev is None or (prev.state, prev.status) != ("COMPLETED", "WAIVED"):
            return None
        if waiver_applies(waivers, waiver_rules, run_dir=run_dir, previous_run_dir=prev.run_dir, env=env):
            return "WAIVED", comment if comment else prev.comment
        return None

    return hook
