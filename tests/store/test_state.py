"""The state model: ranks, exit codes, the item rollup with the reference's worked examples."""

import pytest

from megatest.store import state as m


@pytest.mark.parametrize(
    ("incoming", "others", "parent"),
    [
        (("COMPLETED", "PASS"), [("COMPLETED", "PASS")] * 3, ("COMPLETED", "PASS")),
        (("COMPLETED", "PASS"), [("COMPLETED", "FAIL"), ("RUNNING", "n/a")], ("RUNNING", "FAIL")),
        (("COMPLETED", "WARN"), [("COMPLETED", "PASS"), ("NOT_STARTED", "n/a")],
         ("NOT_STARTED", "CHECK")),
        (("COMPLETED", "PASS"), [("NOT_STARTED", "PREQ_FAIL")], ("COMPLETED", "CHECK")),
        (("KILLED", "KILLED"), [("COMPLETED", "PASS")], ("KILLED", "PASS")),
        (("INCOMPLETE", "KILLED"), [("COMPLETED", "PASS")], ("INCOMPLETE", "PASS")),
        (("COMPLETED", "ABORT"), [("COMPLETED", "FAIL")], ("COMPLETED", "ABORT")),
    ],
)
def test_item_rollup_reference_examples(incoming, others, parent):
    assert m.item_rollup(*incoming, others) == m.Rollup(*parent)


def test_running_incoming_item_makes_parent_running():
    assert m.item_rollup("RUNNING", "n/a", [("COMPLETED", "PASS")]).state == "RUNNING"


def test_launched_incoming_only_counts_by_rank_not_as_running_sibling():
    # `running` looks at the other items only; a LAUNCHED item still wins by rank.
    assert m.item_rollup("LAUNCHED", "n/a", [("COMPLETED", "PASS")]) == m.Rollup("LAUNCHED", "PASS")


def test_single_item_parent_mirrors_it():
    assert m.item_rollup("COMPLETED", "FAIL", []) == m.Rollup("COMPLETED", "FAIL")


def test_by_rank_is_stable_for_unranked_values():
    assert m.by_rank(["INCOMPLETE", "UNKNOWN", "RUNNING", "INCOMPLETE"], m.STATE_RANKS) == [
        "RUNNING", "INCOMPLETE", "UNKNOWN"]


@pytest.mark.parametrize(
    ("code", "current", "expected"),
    [(0, None, "PASS"), (1, None, "FAIL"), (2, None, "WARN"), (3, None, "CHECK"),
     (4, None, "WAIVED"), (5, None, "ABORT"), (6, None, "SKIP"), (7, None, "FAIL"),
     (None, None, "FAIL"), (0, "AUTO", "AUTO"), (2, "AUTO", "AUTO-WARN"), (1, "AUTO", "FAIL")],
)
def test_status_from_exit_code(code, current, expected):
    assert m.status_from_exit_code(code, current) == expected


def test_step_status_without_logpro_is_pass_or_fail():
    assert [m.step_status_from_exit_code(c, False) for c in (0, 2, 6)] == ["PASS", "FAIL", "FAIL"]
    assert [m.step_status_from_exit_code(c, True) for c in (0, 2, 6, 9)] == [
        "PASS", "WARN", "SKIP", "FAIL"]


def test_helper_numeric_status():
    assert [m.status_from_helper_arg(v) for v in ("0", "3", "WARN")] == ["PASS", "FAIL", "WARN"]


@pytest.mark.parametrize(
    ("value", "expected", "tol", "status", "out"),
    [(1.0, 1.1, 0.2, None, "pass"), (1.0, 2.0, 0.5, None, "fail"), (3, 2, ">", None, "pass"),
     ("3", "4", ">=", "", "fail"), (1, 1, "~", None, "ERROR: bad tol comparator ~"),
     (1, 2, 0.1, "PASS", "PASS"), ("abc", 1, 1, None, None), (1, 1, None, "n/a", "n/a"),
     # on the band's edge: expected-tol <= value <= expected+tol in floats, as the original
     # (|1.2 - 1.3| is 0.10000000000000009, but 1.3 - 0.1 is exactly 1.2)
     (1.2, 1.3, 0.1, None, "pass"), (1.0e9, 2e9, 1e9, None, "pass")],
)
def test_test_data_status(value, expected, tol, status, out):
    assert m.test_data_status(value, expected, tol, status) == out


def test_test_data_rollup():
    assert m.test_data_rollup("PASS", 3, 1) == "FAIL"
    assert m.test_data_rollup("AUTO", 2, 0) == "PASS"
    assert m.test_data_rollup("WARN", 2, 0) == "WARN"
    assert m.test_data_rollup("AUTO", 0, 0) == "AUTO"


def test_dead_rule():
    now = 100_000
    assert m.is_dead("RUNNING", now - 8000, 0, now)
    assert not m.is_dead("RUNNING", now - 8000, 1000, now)  # heartbeat 7000 s ago < 7200 + ...
    assert m.is_dead("REMOTEHOSTSTART", now - 100, 0, now, deadtime=50)
    assert not m.is_dead("LAUNCHED", now - 8000, 0, now)
    assert m.is_dead("LAUNCHED", now - 90_000, 0, now)
    assert not m.is_dead("COMPLETED", 0, 0, now)


def test_run_rollup():
    T = m.TestSummary
    done = m.run_rollup([T("COMPLETED", "PASS", 100, 10), T("COMPLETED", "FAIL", 105, 20),
                         T("DELETED", "n/a", 500, 500)])
    assert done == m.RunRollup("COMPLETED", "FAIL", 125, 1, 1)
    running = m.run_rollup([T("COMPLETED", "PASS", 100, 10), T("RUNNING", "n/a", 100, 0)])
    assert (running.state, running.status, running.end_time) == ("RUNNING", "PASS", None)
    dropped = m.run_rollup([T("COMPLETED", "PASS", 1, 1), T("NOT_STARTED", "PREQ_FAIL", 1, 0)])
    assert (dropped.state, dropped.status, dropped.end_time) == ("COMPLETED", "CHECK", 2)
    assert m.run_rollup([T("DELETED", "n/a")]) is None
