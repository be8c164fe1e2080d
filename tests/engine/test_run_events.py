"""Publishing run events to listeners."""

from __future__ import annotations

from megatest.engine.run_events import RunEvents, RunListener
from megatest.executor.reporter import TestRef


class Steps(RunListener):
    def __init__(self) -> None:
        self.steps: list[tuple[str, str]] = []

    def step_changed(self, change):
        self.steps.append((change.step, change.state))


class States(RunListener):
    def __init__(self) -> None:
        self.states: list[str] = []

    def test_changed(self, change):
        self.states.append(change.state)


def test_each_listener_hears_only_what_it_listens_to_in_subscription_order():
    events, order = RunEvents(), []
    steps, states = Steps(), States()
    events.subscribe(steps)
    events.subscribe(states)
    ref = TestRef("t", "", 1, 1)
    events.test_changed(ref, "RUNNING", "n/a", None)
    events.step_changed(ref, "build", "start", "n/a", "build.log", "")
    events.turn()
    assert states.states == ["RUNNING"] and steps.steps == [("build", "start")]

    class First(RunListener):
        def test_changed(self, change):
            order.append("first")

    class Second(RunListener):
        def test_changed(self, change):
            order.append("second")

    events.subscribe(First())
    events.subscribe(Second())
    events.test_changed(ref, "COMPLETED", "PASS", None)
    assert order == ["first", "second"]


def test_an_unsubscribed_listener_hears_nothing_more():
    events, states = RunEvents(), States()
    events.subscribe(states)
    events.unsubscribe(states)
    events.test_changed(TestRef("t"), "RUNNING", "n/a", None)
    assert states.states == []
