"""The queue's cost per item does not grow with the number of items: a test waiting on an
itemized one rolls its parent up from the few (state, status) pairs of the items, not from
every item, however many items end one by one."""

from __future__ import annotations

from megatest.engine.model import Item, Limits, Row, TestPlan
from megatest.engine.scheduler import Scheduler, rollup_items


def _run_items(n: int) -> tuple[int, Row]:
    """Run `a` (n items, two at a time) with `b` waiting on it; the most rows one parent
    rollup was given, and what `b` saw of `a` in the end."""
    biggest = [0]

    def rollup(rows):
        biggest[0] = max(biggest[0], len(rows))
        return rollup_items(rows)

    items = [Item((("N", str(k)),)) for k in range(n)]
    s = Scheduler([TestPlan("a", items=items), TestPlan("b", waitons=("a",))], {},
                  should_run=lambda key, row: True, rollup=rollup,
                  limits=Limits(max_concurrent_jobs=2))
    launched = [launch.key for launch in s.decide().launch]
    while launched:
        key = launched.pop(0)
        s.update(key, "RUNNING", "n/a")
        s.update(key, "COMPLETED", "PASS")
        launched += [launch.key for launch in s.decide().launch if launch.key[0] == "a"]
    return biggest[0], s.row("a", "")


def test_a_parent_rollup_reads_as_few_rows_with_500_items_as_with_20():
    small, small_top = _run_items(20)
    large, large_top = _run_items(500)
    assert large == small <= 4  # NOT_STARTED, LAUNCHED, RUNNING, COMPLETED/PASS at most
    assert (large_top.state, large_top.status) == (small_top.state, small_top.status) == (
        "COMPLETED", "PASS")


def test_rows_given_at_start_are_counted_and_recounted_as_they_change():
    rows = {("a", "1"): Row("COMPLETED", "FAIL"), ("a", "2"): Row("COMPLETED", "PASS")}
    s = Scheduler([TestPlan("a")], rows, should_run=lambda key, row: False)
    assert str(s.row("a", "")) == "COMPLETED/FAIL"
    s.update(("a", "1"), "COMPLETED", "PASS")
    assert str(s.row("a", "")) == "COMPLETED/PASS"
