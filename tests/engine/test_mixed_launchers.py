"""One run, two kinds of launcher: `[launchers]` patterns send some tests to `[host-types]`
lines of another kind than `[jobtools] launcher` (the original's flexi-launcher). Whole runs
in-process on the fake launchers' clock, as tests/engine/test_runner.py drives them."""

from __future__ import annotations

import pytest
from fake_launcher import FakeClock, FakeLauncher, Script
from test_runner import START, make_area, run

from megatest.errors import UsageError
from megatest.launch import registry
from megatest.store import open_store


@pytest.fixture
def scripts():
    """Two fake launchers on one clock: `near` (the default) and `far`."""
    clock = FakeClock(START)
    made = {"near": Script(clock), "far": Script(clock)}
    for name, script in made.items():
        registry.register(name, lambda context, script=script: FakeLauncher(context, script))
    yield made
    for name in made:
        registry.unregister(name)


def flexi(root, lines: str):
    config = root / "megatest.config"
    config.write_text(config.read_text().replace(
        "[jobtools]\nlauncher near\n",
        f"[jobtools]\nlauncher near\nflexi-launcher yes\n\n{lines}"))
    return root


HOSTS = "[host-types]\nbig far --queue big\n\n[launchers]\nsim% big\n"


def test_each_test_goes_to_its_kinds_launcher_and_the_run_ends_as_one(tmp_path, scripts):
    root = flexi(make_area(tmp_path, {"lint": "", "sim_a": "", "sim_b": "",
                                      "report": "[requirements]\nwaiton sim_a sim_b lint\n"},
                           jobs=4, launcher="near"), HOSTS)
    scripts["far"].durations.update({"sim_a": 30, "sim_b": 50})
    scripts["far"].statuses["sim_b"] = "FAIL"
    outcome, rows = run(root, scripts["near"])
    assert sorted(name for _, name in scripts["near"].submitted) == ["lint"]
    assert sorted(name for _, name in scripts["far"].submitted) == ["sim_a", "sim_b"]
    assert rows["sim_b"][:2] == ("COMPLETED", "FAIL")
    assert rows["lint"][:2] == rows["sim_a"][:2] == ("COMPLETED", "PASS")
    assert rows["report"][:2] == ("NOT_STARTED", "PREQ_FAIL")
    assert outcome.exit_code != 0
    # the tests ran side by side and nothing waited past the last end
    assert scripts["far"].clock.now == START + 50


def test_the_waiting_member_is_the_one_whose_work_comes_first(tmp_path, scripts):
    root = flexi(make_area(tmp_path, {"lint": "", "sim_a": "",
                                      "after": "[requirements]\nwaiton lint\n"},
                           jobs=4, launcher="near"), HOSTS)
    scripts["near"].durations.update({"lint": 5, "after": 5})
    scripts["far"].durations["sim_a"] = 60
    outcome, rows = run(root, scripts["near"])
    assert outcome.exit_code == 0
    # `after` starts when `lint` ends, not when the far launcher's long test does
    assert (START + 5, "after") in scripts["near"].submitted
    assert scripts["near"].clock.now == START + 60


def test_a_dead_runners_tests_are_taken_over_each_by_its_own_kind(tmp_path, scripts):
    root = flexi(make_area(tmp_path, {"lint": "", "sim_a": "", "sim_b": ""}, jobs=4,
                           launcher="near"), HOSTS)
    with open_store(root, fields=["SYSTEM"]) as store:  # what a SIGKILLed runner leaves
        run_id = store.get_or_create_run({"SYSTEM": "a"}, "r")
        ids = store.register_tests(run_id, [("lint", ""), ("sim_a", ""), ("sim_b", "")])
        for name in ("lint", "sim_a", "sim_b"):
            store.set_test_state_status(run_id, ids[(name, "")], "RUNNING", "n/a")
    scripts["far"].carry_on.add("sim_a")
    outcome, rows = run(root, scripts["near"])
    assert scripts["near"].offered == ["lint"]
    assert sorted(scripts["far"].offered) == ["sim_a", "sim_b"]
    assert scripts["far"].resumed == [(START, "sim_a")]  # carried on by its own kind
    assert sorted(name for _, name in scripts["far"].submitted) == ["sim_b"]
    assert [name for _, name in scripts["near"].submitted] == ["lint"]
    assert outcome.exit_code == 0
    assert set(rows.values()) == {("COMPLETED", "PASS", "")}


def test_an_unknown_launcher_in_host_types_stops_the_run_naming_it(tmp_path, scripts):
    root = flexi(make_area(tmp_path, {"sim_a": ""}, launcher="near"),
                 "[host-types]\nbig warpdrive -q x\n\n[launchers]\nsim% big\n")
    with pytest.raises(UsageError, match=r"\[host-types\] big: unknown launcher 'warpdrive'"):
        run(root, scripts["near"])
