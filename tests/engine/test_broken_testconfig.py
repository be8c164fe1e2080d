"""A testconfig that cannot be read fails its own test (NOT_STARTED/CONFIG_ERROR, the reader's
`file:line: message` as the comment) and, by the PREQ rules, the tests waiting on it; the rest
of the run goes on. Whole runs in-process with the fake launcher (see test_runner.py)."""

from __future__ import annotations

import test_runner
from test_runner import START, make_area, run, waits_on

script = test_runner.script  # the fake launcher, registered as `fake` (a fixture)

# a Megatest-internal call: the #{scheme} evaluator will never support it
UNREADABLE = "[setup]\nDBDIR #{scheme (rmt:get-something)}\n"


def area(tmp_path, **extra: str):
    return make_area(tmp_path, {
        "good": "", "bad": UNREADABLE, "waiter": waits_on("bad"),
        "top": waits_on("bad") + "mode toplevel\n", "excl": "[setup]\n#{scheme (db:foo)}\n",
        **extra,
    })


def test_an_unreadable_testconfig_fails_its_test_and_its_waiters_only(tmp_path, script):
    root = area(tmp_path)
    outcome, rows = run(root, script, testpatt="good,waiter,top")
    assert outcome.exit_code == 1
    assert [name for _t, name in script.submitted] == ["good"]
    assert rows["good"][:2] == ("COMPLETED", "PASS")
    state, status, why = rows["bad"]
    assert (state, status) == ("NOT_STARTED", "CONFIG_ERROR")
    # the reader's file:line and message (its wording is the Scheme evaluator's)
    assert why.startswith(f"{root.resolve()}/tests/bad/testconfig:2: #{{scheme}}")
    assert "rmt:get-something" in why and "\n" not in why
    assert rows["waiter"][:2] == rows["top"][:2] == ("NOT_STARTED", "PREQ_DISCARDED")
    assert rows["waiter"][2].startswith(f"waiton bad did not run (NOT_STARTED/CONFIG_ERROR: {why}")
    assert rows["top"][2] == "waiton bad did not complete (NOT_STARTED/CONFIG_ERROR)"
    assert "excl" not in rows  # left out by the pattern: never read, never mentioned
    assert {name for name, _state, _why in outcome.failures} == {"bad", "waiter", "top"}
    # a pattern that leaves the broken tests out: a clean run
    outcome, rows = run(root, script, runname="r2", testpatt="good")
    assert outcome.exit_code == 0 and list(rows) == ["good"]


def test_a_run_of_broken_tests_only_ends_with_a_row_for_each(tmp_path, script):
    outcome, rows = run(area(tmp_path), script, testpatt="bad,excl")
    assert outcome.exit_code == 1 and script.submitted == []
    assert {name: row[:2] for name, row in rows.items()} == dict.fromkeys(
        ["bad", "excl"], ("NOT_STARTED", "CONFIG_ERROR"))
    assert outcome.counts == {"CONFIG_ERROR": 2}


def test_items_that_fail_to_read_at_launch_fail_that_test_only(tmp_path, script):
    # [system] items are read again once the waiton allows it: the file broke meanwhile
    root = area(tmp_path, late=waits_on("good") + "[items]\nN [system echo 1 2]\n",
                other="[items]\nN 1 2\n")
    late = root / "tests" / "late" / "testconfig"
    script.clock.at(START + 5, lambda: late.write_text(late.read_text() + UNREADABLE))
    outcome, rows = run(root, script, testpatt="good,late,other")
    assert rows["late"][:2] == ("NOT_STARTED", "CONFIG_ERROR")
    assert f"{root.resolve()}/tests/late/testconfig:" in rows["late"][2]
    assert rows["other/1"][:2] == rows["other/2"][:2] == ("COMPLETED", "PASS")
    assert outcome.exit_code == 1


def test_a_result_kept_by_the_rerun_rules_stays_when_the_testconfig_breaks(tmp_path, script):
    root = make_area(tmp_path, {"lib": "", "app": waits_on("lib")})
    assert run(root, script)[0].exit_code == 0
    (root / "tests" / "lib" / "testconfig").write_text(UNREADABLE)
    outcome, rows = run(root, script)  # nothing would run: lib's PASS is not thrown away
    assert outcome.exit_code == 0 and rows["lib"][:2] == ("COMPLETED", "PASS")
    outcome, rows = run(root, script, rerun_all=True)  # it would run: its row says why not
    assert rows["lib"][:2] == ("NOT_STARTED", "CONFIG_ERROR")
    assert rows["app"][:2] == ("NOT_STARTED", "PREQ_DISCARDED")
    assert outcome.exit_code == 1


def test_an_item_whose_testconfig_fails_to_read_at_launch_fails_that_item_only(tmp_path, script):
    # read at launch with the item's variables set: only item 1 includes the bad file
    root = make_area(tmp_path, {
        "sweep": "[items]\nN 1 2\n\n[include #{getenv N}.inc]\n",
        "after": waits_on("sweep") + "mode itemwait\n[items]\nN 1 2\n",
    })
    (root / "tests" / "sweep" / "1.inc").write_text(UNREADABLE)
    outcome, rows = run(root, script)
    assert rows["sweep/1"][:2] == ("NOT_STARTED", "CONFIG_ERROR")
    assert rows["sweep/1"][2].startswith(f"{root.resolve()}/tests/sweep/1.inc:2: #{{scheme}}")
    assert rows["sweep/2"][:2] == rows["after/2"][:2] == ("COMPLETED", "PASS")
    assert rows["after/1"][:2] == ("NOT_STARTED", "PREQ_DISCARDED")
    assert [name for _t, name in script.submitted] == ["sweep/2", "after/2"]
    assert outcome.exit_code == 1
