import pytest

from megatest.executor import exitcodes


@pytest.mark.parametrize(
    ("code", "status"),
    [(0, "PASS"), (1, "FAIL"), (2, "WARN"), (3, "CHECK"), (4, "WAIVED"), (5, "ABORT"),
     (6, "SKIP"), (7, "FAIL"), (127, "FAIL"), (None, "FAIL"), (-9, "FAIL")],
)
def test_final_status_table(code, status):
    assert exitcodes.final_status(code) == status


def test_final_status_keeps_auto():
    assert exitcodes.final_status(0, "AUTO") == "AUTO"
    assert exitcodes.final_status(2, "AUTO") == "AUTO-WARN"
    assert exitcodes.final_status(1, "AUTO") == "FAIL"


@pytest.mark.parametrize("code", [1, 2, 3, 4, 5, 6, 42])
def test_without_logpro_only_zero_passes(code):
    assert exitcodes.step_status(0, logpro=False) == "PASS"
    assert exitcodes.step_status(code, logpro=False) == "FAIL"
    assert not exitcodes.step_is_good(code, logpro=False)


def test_with_logpro_codes_map_and_two_is_good():
    assert [exitcodes.step_status(c, logpro=True) for c in range(8)] == [
        "PASS", "FAIL", "WARN", "CHECK", "WAIVED", "ABORT", "SKIP", "FAIL"]
    assert exitcodes.step_is_good(2, logpro=True)
    assert not exitcodes.step_is_good(3, logpro=True)


def test_rollup_warn_then_pass_stays_warn_and_fail_sticks():
    r = exitcodes.combine_step(0, "a", 2, logpro=True)
    assert (r.code, r.status, r.comment) == (2, "WARN", "Logpro warning found")
    r = exitcodes.combine_step(r.code, "b", 0, logpro=False)
    assert (r.code, r.status, r.comment) == (2, "WARN", None)
    r = exitcodes.combine_step(r.code, "c", 1, logpro=False)
    assert (r.code, r.status, r.comment) == (1, "FAIL", "Failed at step c")
    # a runscript that exited non-zero makes every later step FAIL
    r = exitcodes.combine_step(3, "d", 0, logpro=False)
    assert (r.code, r.status) == (1, "FAIL")


def test_rollup_check_waived_abort_skip():
    for code, status in [(3, "CHECK"), (4, "WAIVED"), (5, "ABORT"), (6, "SKIP")]:
        r = exitcodes.combine_step(0, "s", code, logpro=True)
        assert (r.code, r.status) == (code, status)
