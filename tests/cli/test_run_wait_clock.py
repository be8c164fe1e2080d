"""`runs wait` / `-run-wait` on an injected clock: how often it looks, when it gives up."""

from __future__ import annotations

from megatest.engine.manage import Selector, wait
from megatest.store import open_store


class StepClock:
    """A clock that moves only when waited on; `on_sleep` runs at each wait."""

    def __init__(self, on_sleep=lambda n: None):
        self.now = 0.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        self.on_sleep(self.sleeps)


def _area_with_a_running_test(tmp_path):
    with open_store(tmp_path, fields=["OS"]) as store:
        run_id = store.get_or_create_run({"OS": "linux"}, "r")
        test_id = store.get_or_create_test(run_id, "t1", state="RUNNING")
    return run_id, test_id


def test_wait_looks_each_interval_until_the_test_ends(tmp_path):
    run_id, test_id = _area_with_a_running_test(tmp_path)

    def finish_at_third_look(n: int) -> None:
        if n == 3:
            with open_store(tmp_path, create=False) as store:
                store.set_test_state_status(run_id, test_id, "COMPLETED", "PASS")

    clock = StepClock(finish_at_third_look)
    said: list[str] = []
    assert wait(Selector(tmp_path, "linux", "r"), said.append, interval=5.0, clock=clock)
    assert (clock.sleeps, clock.now) == (3, 15.0)
    assert said == ["waiting for linux/r: 1 running"]  # said once, not at every look


def test_wait_gives_up_after_its_timeout(tmp_path):
    _area_with_a_running_test(tmp_path)
    clock = StepClock()
    said: list[str] = []
    assert not wait(Selector(tmp_path, "linux", "r"), said.append, timeout=2.5, interval=1.0,
                    clock=clock)
    assert clock.sleeps == 3
    assert said == ["waiting for linux/r: 1 running", "still busy: linux/r: 1 running"]


def test_a_test_state_outside_the_wanted_states_is_not_waited_on(tmp_path):
    _area_with_a_running_test(tmp_path)
    clock = StepClock()
    assert wait(Selector(tmp_path, "linux", "r", states=("LAUNCHED",)), print, clock=clock)
    assert clock.sleeps == 0
