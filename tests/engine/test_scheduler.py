"""The queue as pure logic: launch order, wait modes, blocked reasons, limits, rerun rules."""

from __future__ import annotations

from megatest.engine.model import Item, Limits, Load, Row, TestPlan
from megatest.engine.rerun import RerunPolicy
from megatest.engine.scheduler import Scheduler


def sched(plans, rows=None, rerun=None, limits=None):
    policy = RerunPolicy.from_option(rerun)
    return Scheduler(
        plans,
        rows or {},
        should_run=lambda key, row: policy.should_run(row),
        limits=limits or Limits(max_concurrent_jobs=100),
    )


def launched(decision):
    return sorted(f"{j.key[0]}/{j.key[1]}" if j.key[1] else j.key[0] for j in decision.launch)


def finish(s, key, status="PASS", state="COMPLETED"):
    s.update(key, state, status)


def items(*paths):
    return [Item((("X", p),)) for p in paths]


def test_independent_tests_all_launch_and_the_queue_ends():
    s = sched([TestPlan("a"), TestPlan("b")])
    d = s.decide()
    assert launched(d) == ["a", "b"]
    assert {k for k, _ in d.register} == {("a", ""), ("b", "")}
    finish(s, ("a", ""))
    finish(s, ("b", ""))
    assert not s.decide()
    assert s.finished()


def test_waiton_launches_only_after_a_good_completion():
    s = sched([TestPlan("a"), TestPlan("b", waitons=("a",))])
    assert launched(s.decide()) == ["a"]
    s.update(("a", ""), "RUNNING", "n/a")
    assert launched(s.decide()) == []
    assert "waiting for a" in s.why_waiting(("b", ""))
    finish(s, ("a", ""), "WARN")
    assert launched(s.decide()) == ["b"]


def test_failed_prerequisite_blocks_with_reason_not_ten_strikes():
    s = sched([TestPlan("a"), TestPlan("b", waitons=("a",)), TestPlan("c", waitons=("b",))])
    s.decide()
    finish(s, ("a", ""), "FAIL")
    d = s.decide()
    assert d.launch == []
    got = {b.key[0]: (b.status, b.comment) for b in d.blocked}
    assert got["b"] == ("PREQ_FAIL", "waiton a ended COMPLETED/FAIL")
    assert got["c"][0] == "PREQ_DISCARDED"
    assert "waiton b did not run" in got["c"][1]
    assert s.finished()


def test_toplevel_runs_after_a_failed_waiton_but_not_after_a_discarded_one():
    s = sched(
        [
            TestPlan("a"),
            TestPlan("t", waitons=("a",), modes=frozenset({"toplevel"})),
            TestPlan("b", waitons=("a",)),
            TestPlan("u", waitons=("b",), modes=frozenset({"toplevel"})),
        ]
    )
    s.decide()
    finish(s, ("a", ""), "FAIL")
    d = s.decide()
    assert launched(d) == ["t"]
    blocked = {b.key[0]: b.status for b in d.blocked}
    assert blocked == {"b": "PREQ_FAIL", "u": "PREQ_DISCARDED"}


def test_normal_mode_on_itemized_waiton_waits_for_every_item():
    s = sched([TestPlan("a", items=items("1", "2")), TestPlan("b", waitons=("a",))])
    assert launched(s.decide()) == ["a/1", "a/2"]
    finish(s, ("a", "1"))
    assert launched(s.decide()) == []
    finish(s, ("a", "2"))
    assert launched(s.decide()) == ["b"]


def test_itemwait_releases_each_item_when_its_match_passes():
    plans = [
        TestPlan("a", items=items("1", "2", "3")),
        TestPlan("b", waitons=("a",), modes=frozenset({"itemwait"}), items=items("1", "2", "3")),
    ]
    s = sched(plans)
    assert launched(s.decide()) == ["a/1", "a/2", "a/3"]
    finish(s, ("a", "2"))
    assert launched(s.decide()) == ["b/2"]
    finish(s, ("a", "1"), "FAIL")
    d = s.decide()
    assert launched(d) == []
    assert [(b.key, b.status) for b in d.blocked] == [(("b", "1"), "PREQ_FAIL")]
    assert d.blocked[0].comment == "waiton a/1 ended COMPLETED/FAIL"
    finish(s, ("a", "3"))
    assert launched(s.decide()) == ["b/3"]


def test_itemmap_translates_the_waiting_item_path():
    def strip_prefix(waiton, path):
        return path.split("/")[-1]

    plans = [
        TestPlan("a", items=items("x", "y")),
        TestPlan(
            "b",
            waitons=("a",),
            modes=frozenset({"itemmatch"}),
            items=items("blah/x", "blah/y"),
            itemmap=strip_prefix,
        ),
    ]
    s = sched(plans)
    s.decide()
    finish(s, ("a", "y"))
    assert launched(s.decide()) == ["b/blah/y"]


def test_deferred_items_expand_only_once_prerequisites_pass():
    calls = []

    def dyn():
        calls.append(1)
        return items("p", "q")

    s = sched([TestPlan("a"), TestPlan("b", waitons=("a",), items=dyn)])
    assert launched(s.decide()) == ["a"]
    assert calls == []
    finish(s, ("a", ""))
    d = s.decide()
    assert calls == [1]
    assert launched(d) == ["b/p", "b/q"]
    assert (("b", "p"), Item((("X", "p"),))) in d.register


def test_deferred_items_that_are_empty_end_as_zero_items_and_discard_dependants():
    s = sched([TestPlan("a", items=lambda: []), TestPlan("b", waitons=("a",))])
    d = s.decide()
    got = {b.key[0]: b.status for b in d.blocked}
    assert got == {"a": "ZERO_ITEMS", "b": "PREQ_DISCARDED"}


def test_max_concurrent_jobs_counts_other_runs_too():
    s = sched([TestPlan(n) for n in "abcd"], limits=Limits(max_concurrent_jobs=3))
    d = s.decide(Load(running=2))
    assert len(d.launch) == 1
    assert launched(s.decide(Load(running=2))) == []
    finish(s, d.launch[0].key)
    assert len(s.decide(Load(running=0)).launch) == 3


def test_jobgroup_limit_and_priority_order():
    plans = [
        TestPlan("low", jobgroup="g"),
        TestPlan("high", jobgroup="g", priority=10),
        TestPlan("free"),
    ]
    s = sched(plans, limits=Limits(max_concurrent_jobs=10, jobgroups={"g": 1}))
    d = s.decide()
    assert [j.key[0] for j in d.launch] == ["high", "free"]
    finish(s, ("high", ""))
    assert launched(s.decide()) == ["low"]


def test_exclusive_never_runs_alongside_the_same_test_elsewhere():
    s = sched([TestPlan("x", modes=frozenset({"exclusive"}))])
    assert launched(s.decide(Load(running=1, names=frozenset({"x"})))) == []
    assert not s.finished()
    assert launched(s.decide(Load())) == ["x"]


def test_completed_tests_are_kept_unless_their_status_is_rerun():
    rows = {
        ("a", ""): Row("COMPLETED", "PASS"),
        ("b", ""): Row("COMPLETED", "FAIL"),
        ("c", ""): Row("NOT_STARTED", "PREQ_FAIL"),
    }
    plans = [TestPlan("a"), TestPlan("b"), TestPlan("c", waitons=("b",))]
    s = sched(plans, dict(rows))
    d = s.decide()
    assert launched(d) == []
    assert [(b.key[0], b.status) for b in d.blocked] == [("c", "PREQ_FAIL")]

    s = sched(plans, {k: Row(r.state, r.status) for k, r in rows.items()}, rerun="FAIL")
    d = s.decide()
    assert launched(d) == ["b"]
    # the rerun test is shown NOT_STARTED again until it runs, so `c` waits for the new result
    assert (("b", ""), None) in d.register
    finish(s, ("b", ""))
    assert launched(s.decide()) == ["c"]


def test_waiton_cycle_ends_blocked_instead_of_spinning():
    s = sched([TestPlan("a", waitons=("b",)), TestPlan("b", waitons=("a",))])
    d = s.decide()
    assert d.launch == []
    assert sorted(b.key[0] for b in d.blocked) == ["a", "b"]
    assert all(b.status == "BLOCKED" and "cycle" in b.comment for b in d.blocked)
    assert s.finished()


def test_cancel_takes_a_queued_job_out():
    s = sched([TestPlan("a"), TestPlan("b")], limits=Limits(max_concurrent_jobs=1))
    d = s.decide()
    assert launched(d) == ["a"]
    assert s.cancel(("b", ""))
    finish(s, ("a", ""))
    assert launched(s.decide()) == []
    assert s.finished()


def test_testpattern_item_filter_and_max_launches():
    plan = TestPlan("a", items=items("1", "2", "3"), item_wanted=lambda p: p != "2")
    s = sched([plan])
    assert launched(s.decide(max_launches=1)) == ["a/1"]
    assert launched(s.decide()) == ["a/3"]


def test_cancelled_ready_job_does_not_hide_a_deadlock():
    s = sched(
        [TestPlan("a", waitons=("b",)), TestPlan("b", waitons=("a",)), TestPlan("c")],
        limits=Limits(max_concurrent_jobs=1),
    )
    s.decide(max_launches=0)  # c is ready but not launched
    assert s.cancel(("c", ""))
    d = s.decide()
    assert sorted(b.key[0] for b in d.blocked) == ["a", "b"]
    assert s.finished()


def test_launch_budget_zero_holds_ready_jobs_without_blocking_them():
    s = sched([TestPlan("a")])
    d = s.decide(max_launches=0)
    assert d.launch == [] and d.blocked == []
    assert s.ready_count() == 1 and not s.finished()
    assert launched(s.decide(max_launches=1)) == ["a"]


def test_upcoming_peeks_the_next_launches_in_order_without_taking_them():
    plans = [TestPlan("low", priority=1), TestPlan("high", priority=9), TestPlan("mid", priority=5)]
    s = sched(plans, limits=Limits(max_concurrent_jobs=1))
    assert launched(s.decide()) == ["high"]
    assert [launch.key[0] for launch in s.upcoming(5)] == ["mid", "low"]
    assert [launch.key[0] for launch in s.upcoming(1)] == ["mid"]
    finish(s, ("high", ""))
    assert launched(s.decide()) == ["mid"]  # the peek changed nothing
    s.cancel(("low", ""))
    assert s.upcoming(3) == []
