"""Exit code -> status, and the roll-up of step results into a test status.

Reference: run-engine §2.7 (final status of a runscript / roll-up code) and §3.2 (one ezstep,
with and without logpro). The exit-code -> status table is the store's (megatest.store.state);
this module adds what only the executor needs: the per-step verdict and the roll-up code R.
"""

from __future__ import annotations

from typing import NamedTuple

from megatest.store.state import (
    EXIT_CODE_STATUS,
    status_from_exit_code,
    step_status_from_exit_code,
)

# logpro's own exit codes (run-engine §3.4) map to statuses by the store's table
LOGPRO_EXIT_STATUS = EXIT_CODE_STATUS

# step results of launch:runstep, by the code that represents them in the roll-up code R
_RESULT_CODE = {"pass": 0, "fail": 1, "warn": 2, "check": 3, "waived": 4, "abort": 5, "skip": 6}
_RESULT_STATUS = {
    "pass": "PASS",
    "fail": "FAIL",
    "warn": "WARN",
    "check": "CHECK",
    "waived": "WAIVED",
    "abort": "ABORT",
    "skip": "SKIP",
}


def final_status(code: int | None, current_status: str | None = None) -> str:
    """Status of a test finished through the final-status path (runscript / roll-up code R).

    `code` None or negative means the process was killed by a signal: FAIL. 0 keeps an AUTO
    status, 2 turns AUTO into AUTO-WARN. The table itself lives in megatest.store.state.
    """
    return status_from_exit_code(None if code is None or code < 0 else code, current_status)


def step_result(exit_code: int | None, *, logpro: bool) -> str:
    """One step's result word: pass/warn/check/waived/abort/skip/fail (§3.2 step 9).

    Without logpro only 0 passes. A step killed by a signal (None or negative) fails.
    """
    if exit_code == 0:
        return "pass"
    if exit_code is None or exit_code < 0 or not logpro:
        return "fail"
    return {2: "warn", 3: "check", 4: "waived", 5: "abort", 6: "skip"}.get(exit_code, "fail")


def step_status(exit_code: int | None, *, logpro: bool) -> str:
    """The status word one step's exit code gives on its own (PASS, FAIL, WARN, ...)."""
    if exit_code is None or exit_code < 0:
        return "FAIL"
    return step_status_from_exit_code(exit_code, logpro)


def step_is_good(exit_code: int | None, *, logpro: bool) -> bool:
    """Whether the step sequence continues: exit 0, or exit 2 when logpro judged the log."""
    return exit_code == 0 or (logpro and exit_code == 2)


class RollUp(NamedTuple):
    """The outcome of folding one step into the roll-up code."""

    code: int  # the new roll-up code R
    status: str  # status to write for the test
    comment: str | None  # comment to write with it (None: leave the comment alone)
    result: str  # the combined result word (pass/warn/fail/...)


def combine_step(
    rollup_code: int, step_name: str, exit_code: int | None, *, logpro: bool
) -> RollUp:
    """Fold one step's exit code into the roll-up code R the way launch:runstep does.

    before: R=0 -> pass, R=2 -> warn, any other R -> fail. pass-before takes the step result;
    warn-before gives fail if the step failed, else warn; fail-before stays fail.
    """
    result = step_result(exit_code, logpro=logpro)
    before = "pass" if rollup_code == 0 else "warn" if rollup_code == 2 else "fail"
    if before == "pass":
        combined = result
    elif before == "warn":
        combined = "fail" if result == "fail" else "warn"
    else:
        combined = "fail"
    if combined == "pass":
        return RollUp(rollup_code, "PASS", None, combined)
    if combined == "warn":
        comment = "Logpro warning found" if result == "warn" else None
        return RollUp(2, "WARN", comment, combined)
    if combined == "fail":
        return RollUp(1, "FAIL", f"Failed at step {step_name}", combined)
    return RollUp(_RESULT_CODE[combined], _RESULT_STATUS[combined], None, combined)
