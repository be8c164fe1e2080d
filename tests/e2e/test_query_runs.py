"""`megatest query runs` (and legacy -list-runs): what runs an area holds, filtered."""

from __future__ import annotations

import json

TARGET = "ubuntu/v1"


def test_query_runs_lists_and_filters_runs(make_area):
    area = make_area("resume")
    for runname in ("alpha", "beta"):
        area.mt("runs", "start", "--target", TARGET, "--runname", runname, "--testpatt", "t1",
                "-q", check=0)
    runs = json.loads(area.mt("query", "runs", "--format", "json", check=0).stdout)
    assert [(r["target"], r["runname"], r["state"], r["status"]) for r in runs] == [
        (TARGET, "alpha", "COMPLETED", "PASS"),
        (TARGET, "beta", "COMPLETED", "PASS"),
    ]
    assert all(r["pass_count"] == 1 and r["fail_count"] == 0 for r in runs)
    only_beta = json.loads(
        area.mt("query", "runs", "--runname", "b%", "--format", "json", check=0).stdout
    )
    assert [r["runname"] for r in only_beta] == ["beta"]
    legacy = area.mt("-list-runs", "al%", check=0).stdout
    assert "alpha" in legacy and "beta" not in legacy
    assert json.loads(
        area.mt("query", "runs", "--target", "centos/%", "--format", "json", check=0).stdout
    ) == []


def test_query_runs_on_an_area_without_runs_is_one_line_error(make_area):
    area = make_area("resume")
    proc = area.mt("query", "runs")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no runs yet" in proc.stderr
