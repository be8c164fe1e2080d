"""Rerun rules: what a plain run, --rerun and the states decide."""

from __future__ import annotations

import pytest

from megatest.engine.model import Row
from megatest.engine.rerun import RerunPolicy


@pytest.mark.parametrize(
    "state,status,rerun,expected",
    [
        (None, None, None, True),
        ("NOT_STARTED", "n/a", None, True),
        ("NOT_STARTED", "PREQ_FAIL", None, True),
        ("INCOMPLETE", "DEAD", None, True),
        ("DELETED", "n/a", None, True),
        ("COMPLETED", "PASS", None, False),
        ("COMPLETED", "FAIL", None, False),
        ("COMPLETED", "FAIL", "FAIL", True),
        ("COMPLETED", "PASS", "FAIL", False),
        ("COMPLETED", "ABORT", "FAIL,ABORT", True),
        ("RUNNING", "n/a", "n/a", False),
        ("KILLED", "KILLED", None, False),
        ("KILLED", "KILLED", "KILLED", True),
        ("STUCK", "n/a", "n/a", False),
    ],
)
def test_rerun_table(state, status, rerun, expected):
    row = None if state is None else Row(state, status)
    assert RerunPolicy.from_option(rerun).should_run(row) is expected


def test_force_runs_anything_and_reason_names_the_option():
    assert RerunPolicy.from_option(None, force=True).should_run(Row("COMPLETED", "PASS"))
    run, why = RerunPolicy.from_option(None).decide(Row("COMPLETED", "FAIL"))
    assert not run and "--rerun FAIL" in why
