"""One test's testconfig that cannot be read fails that test alone, through the real CLI: the
others run, its row and the console say why in one line, a test the pattern leaves out is
never read, and listing the area's tests shows the good ones with the bad one's error."""

from __future__ import annotations

import json

TARGET = ("--target", "ubuntu/v1")


def _area(make_area):
    """exclusive's `free` (passes) plus: `bad`, whose #{scheme} calls a Megatest internal the
    evaluator does not support; `waiter`, waiting on it; `unread`, broken too, left out."""
    area = make_area("exclusive")
    tests = area.root / "tests"
    (tests / "solo").rename(area.root / "solo-unused")  # keep the run short
    for name, text in {
        "bad": "[setup]\nDBDIR #{scheme (rmt:get-something)}\n[ezsteps]\ngo true\n",
        "waiter": "[requirements]\nwaiton bad\n[ezsteps]\ngo true\n",
        "unread": "[ezsteps]\ngo true\n#{scheme (db:get-something-else)}\n",
    }.items():
        (tests / name).mkdir()
        (tests / name / "testconfig").write_text(text)
    return area


def _no_traceback(proc) -> str:
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    return out


def _progress_lines(proc, text: str) -> list[str]:
    """The progress lines holding `text` (the summary's failure lines are indented)."""
    return [line for line in proc.stdout.splitlines() if text in line and line[:1] != " "]


def test_the_run_goes_on_without_the_test_whose_testconfig_cannot_be_read(make_area):
    area = _area(make_area)
    bad = area.root / "tests" / "bad" / "testconfig"
    why = f"{bad}:2: #{{scheme}}"  # then the evaluator's words about rmt:get-something
    proc = area.mt("runs", "start", *TARGET, "--runname", "r1", "--testpatt", "free,waiter",
                   check=1)
    out = _no_traceback(proc)
    rows = {r["test"]: r for r in area.rows("ubuntu/v1", "r1")}
    assert {name: (r["state"], r["status"]) for name, r in rows.items()} == {
        "free": ("COMPLETED", "PASS"),
        "bad": ("NOT_STARTED", "CONFIG_ERROR"),
        "waiter": ("NOT_STARTED", "PREQ_DISCARDED"),
    }
    assert rows["bad"]["comment"].startswith(why) and "rmt:get-something" in rows["bad"]["comment"]
    assert rows["waiter"]["comment"].startswith("waiton bad did not run (NOT_STARTED/CONFIG_ERROR")
    # the progress says it in one line (the summary at the end lists it with the failures)
    said = _progress_lines(proc, "CONFIG_ERROR  ")
    assert len(said) == 1 and " bad " in said[0] and why in said[0]
    assert "unread" not in out  # left out by the pattern: not read, not mentioned
    # the same area, a pattern that leaves the broken tests out: a clean run
    proc = area.mt("runs", "start", *TARGET, "--runname", "r2", "--testpatt", "free", check=0)
    assert "CONFIG_ERROR" not in _no_traceback(proc) and "unread" not in proc.stderr
    assert area.table("ubuntu/v1", "r2") == {"free": ("COMPLETED", "PASS")}


def test_a_run_of_broken_tests_only_gives_a_line_and_a_row_for_each(make_area):
    area = _area(make_area)
    proc = area.mt("runs", "start", *TARGET, "--runname", "r", "--testpatt", "bad,unread", check=1)
    _no_traceback(proc)
    assert area.table("ubuntu/v1", "r") == {
        "bad": ("NOT_STARTED", "CONFIG_ERROR"), "unread": ("NOT_STARTED", "CONFIG_ERROR")}
    said = _progress_lines(proc, "CONFIG_ERROR  ")
    assert [line.split()[1] for line in said] == ["bad", "unread"]
    assert f"{area.root}/tests/unread/testconfig:3: #{{scheme}}" in said[1]


def test_listing_the_tests_shows_the_good_ones_and_says_what_is_wrong_with_the_bad(make_area):
    area = _area(make_area)
    proc = area.mt("query", "area-tests", "--format", "json", check=2)
    _no_traceback(proc)
    tests = {t["name"]: t for t in json.loads(proc.stdout)["tests"]}
    assert tests["free"]["selected"] and tests["waiter"]["waiton"] == ["bad"]
    assert "error" not in tests["free"]
    assert tests["bad"]["error"].startswith(f"{area.root}/tests/bad/testconfig:2: ")
    errors = proc.stderr.splitlines()
    assert len(errors) == 2 and all(line.startswith("megatest: error: ") for line in errors)
    proc = area.mt("query", "area-tests", check=2)
    assert "bad  (its testconfig cannot be read)" in proc.stdout.splitlines()
