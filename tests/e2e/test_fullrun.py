"""The original-style area: every mode, exit codes, logpro, items, blocked reasons, reruns."""

from __future__ import annotations

import collections

TARGET, RUN = "ubuntu/v1", "r1"

EXPECTED = {
    # runscript exit codes 0..6
    "exitcode": ("COMPLETED", "ABORT"),
    "exitcode/0": ("COMPLETED", "PASS"),
    "exitcode/1": ("COMPLETED", "FAIL"),
    "exitcode/2": ("COMPLETED", "WARN"),
    "exitcode/3": ("COMPLETED", "CHECK"),
    "exitcode/4": ("COMPLETED", "WAIVED"),
    "exitcode/5": ("COMPLETED", "ABORT"),
    "exitcode/6": ("COMPLETED", "SKIP"),
    # ezsteps with logpro rules (inline and a rule file), and without
    "ezlog_pass": ("COMPLETED", "PASS"),
    "ezlog_warn": ("COMPLETED", "WARN"),
    "ezlog_fail": ("COMPLETED", "FAIL"),
    "ez_noprules": ("COMPLETED", "FAIL"),
    # itemstable: column-wise, short rows padded with -
    "itemtab": ("COMPLETED", "PASS"),
    "itemtab/1/x": ("COMPLETED", "PASS"),
    "itemtab/2/y": ("COMPLETED", "PASS"),
    "itemtab/3/-": ("COMPLETED", "PASS"),
    # wait modes
    "after_pass": ("COMPLETED", "PASS"),
    "after_fail": ("NOT_STARTED", "PREQ_FAIL"),
    "after_after_fail": ("NOT_STARTED", "PREQ_DISCARDED"),
    "top_after_fail": ("COMPLETED", "PASS"),
    "iw": ("COMPLETED", "CHECK"),
    "iw/0": ("COMPLETED", "PASS"),
    "iw/1": ("NOT_STARTED", "PREQ_FAIL"),
    "iw/2": ("COMPLETED", "PASS"),
    "iw/3": ("COMPLETED", "PASS"),
    "iw/4": ("COMPLETED", "PASS"),
    "iw/5": ("NOT_STARTED", "PREQ_FAIL"),
    "iw/6": ("COMPLETED", "PASS"),
    "im": ("COMPLETED", "PASS"),
    "im/a/0": ("COMPLETED", "PASS"),
    "im/a/2": ("COMPLETED", "PASS"),
    "excl": ("COMPLETED", "PASS"),
    # runtime limit
    "slow": ("KILLED", "KILLED"),
    # dynamic waiton and items
    "dynwait": ("COMPLETED", "PASS"),
    "dynwait/1": ("COMPLETED", "PASS"),
    "dynwait/2": ("COMPLETED", "PASS"),
    "zero": ("NOT_STARTED", "ZERO_ITEMS"),
    "after_zero": ("NOT_STARTED", "PREQ_DISCARDED"),
    # [skip] and a test that writes its own final status
    "skipme": ("COMPLETED", "SKIP"),
    "selfstatus": ("COMPLETED", "PASS"),
    "newform": ("COMPLETED", "PASS"),
}


def test_legacy_run_ends_with_the_predicted_states_then_rerun_fail(make_area):
    area = make_area("fullrun")
    first = area.mt("-run", "-target", TARGET, "-runname", RUN, timeout=120)
    assert first.returncode == 1, first.stdout + first.stderr
    assert area.table(TARGET, RUN) == EXPECTED
    # the user sees why blocked tests did not run
    rows = {r["test"] + ("/" + r["item"] if r["item"] else ""): r for r in area.rows(TARGET, RUN)}
    assert rows["after_fail"]["comment"] == "waiton ezlog_fail ended COMPLETED/FAIL"
    assert rows["iw/5"]["comment"] == "waiton exitcode/5 ended COMPLETED/ABORT"
    assert "KILLING TEST DUE TO TIME LIMIT" in rows["slow"]["comment"]
    assert "after_fail: NOT_STARTED/PREQ_FAIL  waiton ezlog_fail ended COMPLETED/FAIL" in first.stdout
    # a failed logpro step stops the steps after it
    run_dir = area.root / "runs" / TARGET / RUN
    assert (run_dir / "ezlog_fail" / "check.html").exists()
    assert not (run_dir / "ezlog_fail" / "never.ran").exists()
    ran_first = collections.Counter(area.ran())
    assert max(ran_first.values()) == 1
    assert rows["newform"]["comment"] == "new form"

    # nothing is rerun by a plain second run
    again = area.mt("runs", "start", "--target", TARGET, "--runname", RUN, "--quiet")
    assert again.returncode == 1 and again.stdout == ""
    assert collections.Counter(area.ran()) == ran_first

    # --rerun FAIL runs exactly the FAIL tests again (blocked ones are re-examined, not run)
    rerun = area.mt("runs", "start", "--target", TARGET, "--runname", RUN, "--rerun", "FAIL")
    assert rerun.returncode == 1
    delta = collections.Counter(area.ran()) - ran_first
    assert sorted(delta) == ["exitcode/1", "ez_noprules/", "ezlog_fail/"]
    assert area.table(TARGET, RUN) == EXPECTED


def test_testpatt_pulls_in_waitons_and_selfset_status_wins(make_area):
    area = make_area("fullrun")
    proc = area.mt("runs", "start", "--target", TARGET, "--runname", "sel",
                   "--testpatt", "after_pass,selfstatus", check=0)
    assert "after_pass" in proc.stdout
    table = area.table(TARGET, "sel")
    assert table == {
        "ezlog_pass": ("COMPLETED", "PASS"),
        "after_pass": ("COMPLETED", "PASS"),
        "selfstatus": ("COMPLETED", "PASS"),
    }
    rows = {r["test"]: r for r in area.rows(TARGET, "sel")}
    assert rows["selfstatus"]["comment"] == "set by the test"
