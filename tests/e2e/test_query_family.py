"""The query family on a real run: paths, files, data, targets from the database, disks, each
in text, json and csv, and the original's flags that map onto them."""

from __future__ import annotations

import csv
import io
import json

TARGET = "ubuntu/v1"


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_query_data_lists_recorded_values_in_each_format(make_area):
    area = make_area("fullrun")
    area.mt("runs", "start", "--target", TARGET, "--runname", "d1", "--testpatt",
            "newform,ezlog_pass", "-q", check=0)
    rows = json.loads(area.mt("query", "data", "--runname", "d1", "-f", "json", check=0).stdout)
    # ezlog_pass's logpro rules are recorded as data too
    assert {r["test"] for r in rows} == {"newform", "ezlog_pass"}
    (row,) = json.loads(area.mt("query", "data", "--runname", "d1", "--testpatt", "newform",
                                "-f", "json", check=0).stdout)
    assert (row["test"], row["category"], row["variable"], row["value"], row["status"]) == (
        "newform", "c", "v", 5.0, "pass")
    (line,) = _csv(area.mt("query", "data", "--runname", "d1", "--category", "c", "-f", "csv",
                           check=0).stdout)
    assert line["variable"] == "v" and line["expected"] == "5.0" and line["target"] == TARGET
    text = area.mt("query", "data", "--runname", "d1", check=0).stdout
    assert "newform" in text and "c/v = 5.0" in text
    assert area.mt("query", "data", "--runname", "d1", "--category", "x%", check=0).stdout == ""
    assert area.mt("query", "data", "--runname", "d1", "--category", "x%", "-f", "json",
                   check=0).stdout == "[]\n"


def test_query_tests_runs_and_paths_in_csv(make_area):
    area = make_area("fullrun")
    area.mt("runs", "start", "--target", TARGET, "--runname", "c1", "--testpatt",
            "ezlog_pass,ezlog_fail", "-q", check=1)
    tests = _csv(area.mt("query", "tests", "--target", TARGET, "--runname", "c1", "-f", "csv",
                         check=0).stdout)
    assert [(r["test"], r["status"]) for r in tests] == [("ezlog_fail", "FAIL"),
                                                         ("ezlog_pass", "PASS")]
    (run,) = _csv(area.mt("query", "runs", "-f", "csv", check=0).stdout)
    assert (run["target"], run["SYSTEM"], run["RELEASE"], run["runname"]) == (
        TARGET, "ubuntu", "v1", "c1")
    assert run["fail_count"] == "1" and run["pass_count"] == "1"
    paths = _csv(area.mt("query", "paths", "--runname", "c1", "-f", "csv", check=0).stdout)
    assert sorted(p["path"].rsplit("/", 1)[1] for p in paths) == ["ezlog_fail", "ezlog_pass"]
    as_json = json.loads(area.mt("query", "paths", "--runname", "c1", "-f", "json",
                                 check=0).stdout)
    assert sorted(as_json) == sorted(p["path"] for p in paths)
    logs = area.mt("query", "files", "--files", "*.log", "--runname", "c1", "--testpatt",
                   "ezlog_fail", check=0).stdout.split()
    assert any(p.endswith("/ezlog_fail/check.log") for p in logs)
    bad = area.mt("query", "tests", "-f", "xml")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "csv" in bad.stderr


def test_targets_from_the_database_and_disks(make_area):
    area = make_area("fullrun")
    for target in ("ubuntu/v1", "centos/v2", "ubuntu/v1"):
        area.mt("runs", "start", "--target", target, "--runname", f"r_{target[0]}",
                "--testpatt", "ezlog_pass", "-q", check=0)
    assert area.mt("query", "targets", "--db", check=0).stdout.split() == ["ubuntu/v1",
                                                                            "centos/v2"]
    assert json.loads(area.mt("query", "targets", "--db", "--target", "cen%", "-f", "json",
                              check=0).stdout) == ["centos/v2"]
    assert area.mt("-list-db-targets", check=0).stdout.split() == ["ubuntu/v1", "centos/v2"]
    # [disks] disk0 #{getenv MT_RUN_AREA_HOME}/runs
    runs_dir = area.root / "runs"
    assert area.mt("query", "disks", check=0).stdout == f"disk0 => {runs_dir}\n"
    assert area.mt("-list-disks", check=0).stdout == f"disk0 => {runs_dir}\n"
    (disk,) = json.loads(area.mt("query", "disks", "-f", "json", check=0).stdout)
    assert disk["name"] == "disk0" and disk["free_kb"] > 0
    assert _csv(area.mt("query", "disks", "-f", "csv", check=0).stdout)[0]["path"] == str(runs_dir)


def test_config_queries_in_csv(make_area):
    area = make_area("fullrun")
    config = _csv(area.mt("query", "config", "-f", "csv", check=0).stdout)
    assert {"section": "setup", "key": "max_concurrent_jobs", "value": "6"} in config
    runconfig = _csv(area.mt("query", "runconfig", "--target", TARGET, "-f", "csv",
                             check=0).stdout)
    assert {"section": TARGET, "key": "FAVORITE", "value": "green"} in runconfig
    plan = _csv(area.mt("query", "area-tests", "--target", TARGET, "--testpatt", "itemtab,after%",
                        "-f", "csv", check=0).stdout)
    assert [r["item"] for r in plan if r["test"] == "itemtab"] == ["1/x", "2/y", "3/-"]
    assert {r["test"]: r["waiton"] for r in plan}["after_fail"] == "ezlog_fail"
    assert [r["key"] for r in _csv(area.mt("query", "keys", "-f", "csv", check=0).stdout)] == [
        "SYSTEM", "RELEASE"]
