"""Reports of a real run of the original-style area: JUnit XML (live and exported), TeamCity
messages (live and replayed), as a CI server would read them."""

from __future__ import annotations

import collections
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

SCHEMA = Path(__file__).resolve().parents[1] / "report" / "junit-10.xsd"
TARGET, RUN = "ubuntu/v1.2", "nightly"
PATT = "ezlog_pass,ezlog_fail,after_fail,itemtab,skipme,exitcode,ctrl"


def _add_test(area, name: str, testconfig: str) -> None:
    folder = area.root / "tests" / name
    folder.mkdir()
    (folder / "testconfig").write_text(testconfig)


def _area_with_control_chars(make_area):
    area = make_area("fullrun")
    # a failing step whose log holds characters XML 1.0 cannot carry, and markup
    _add_test(area, "ctrl", "[ezsteps]\nbad printf 'boom\\001\\033[31m & <x>\\n'; exit 1\n")
    return area


def _expected_counts(area) -> dict[str, int]:
    """pass/fail/skip counts of `query tests` (the leaves: no itemized test's top row)."""
    rows = area.rows(TARGET, RUN)
    itemized = {r["test"] for r in rows if r["item"]}
    counts = collections.Counter()
    for r in rows:
        if r["item"] == "" and r["test"] in itemized:
            continue
        counts["tests"] += 1
        if r["state"] == "COMPLETED" and r["status"] in ("PASS", "WARN", "WAIVED"):
            counts["passed"] += 1
        elif r["status"] == "SKIP" or r["state"] == "NOT_STARTED":
            counts["skipped"] += 1
        else:
            counts["failures"] += 1
    return dict(counts)


def _junit_counts(path: Path) -> dict[str, int]:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    failed = sum(1 for c in cases if c.find("failure") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    assert int(suite.get("tests")) == len(cases)
    assert int(suite.get("failures")) == failed and int(suite.get("skipped")) == skipped
    return {"tests": len(cases), "passed": len(cases) - failed - skipped, "failures": failed,
            "skipped": skipped}


def test_junit_of_a_run_passes_the_schema_with_the_counts_query_tests_shows(make_area):
    area = _area_with_control_chars(make_area)
    live = area.root / "out" / "live.xml"
    area.mt("runs", "start", "--target", TARGET, "--runname", RUN, "--testpatt", PATT, "-q",
            "--junit", str(live), check=1)
    schema = xmlschema.XMLSchema(str(SCHEMA))
    schema.validate(str(live))
    expected = _expected_counts(area)
    assert expected["failures"] >= 3 and expected["skipped"] >= 2 and expected["passed"] >= 5
    assert _junit_counts(live) == expected

    exported = area.root / "exported.xml"
    area.mt("util", "junit", "--target", TARGET, "--runname", RUN, "-o", str(exported), check=0)
    schema.validate(str(exported))
    assert _junit_counts(exported) == expected

    suite = ET.parse(exported).getroot().find("testsuite")
    # no dot of the target reaches the class name: Jenkins would make packages of them
    assert suite.get("name") == "nightly.ubuntu_v1_2"
    assert {c.get("classname") for c in suite.iter("testcase")} == {"nightly.ubuntu_v1_2"}
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["target"] == TARGET and props["RELEASE"] == "v1.2"
    by_name = {c.get("name"): c for c in suite.iter("testcase")}
    assert "itemtab" not in by_name and "itemtab(1/x)" in by_name  # items as parameters
    blocked = by_name["after_fail"].find("skipped")
    assert "PREQ_FAIL" in blocked.get("message") and "ezlog_fail" in blocked.get("message")
    failure = by_name["ezlog_fail"].find("failure")
    assert failure.get("type") == "FAIL" and "step check" in failure.get("message")
    assert "ERROR: assertion failed" in failure.text  # the failing step's log tail
    ctrl = by_name["ctrl"].find("failure")
    assert "boom" in ctrl.text and "& <x>" in ctrl.text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", ctrl.text)


def test_junit_split_per_target_writes_a_file_per_target(make_area):
    area = make_area("fullrun")
    for target in ("ubuntu/v1", "centos/v2"):
        area.mt("runs", "start", "--target", target, "--runname", RUN, "--testpatt",
                "ezlog_pass", "-q", check=0)
    folder = area.root / "junit"
    proc = area.mt("util", "junit", "--runname", RUN, "--split-per-target", "-o", str(folder),
                   check=0)
    assert sorted(Path(p).name for p in proc.stdout.split()) == ["centos_v2.xml", "ubuntu_v1.xml"]
    for name in ("centos_v2.xml", "ubuntu_v1.xml"):
        xmlschema.XMLSchema(str(SCHEMA)).validate(str(folder / name))


def test_util_junit_with_no_matching_run_is_one_line_error(make_area):
    area = make_area("fullrun")
    area.mt("runs", "start", "--target", "ubuntu/v1", "--runname", RUN, "--testpatt",
            "ezlog_pass", "-q", check=0)
    proc = area.mt("util", "junit", "--target", "ubuntu/v1", "--runname", "nosuch")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "nosuch" in proc.stderr


def test_a_junit_file_that_cannot_be_written_stops_the_run_before_it_starts(make_area):
    area = make_area("fullrun")
    (area.root / "afile").write_text("")
    proc = area.mt("runs", "start", "--target", "ubuntu/v1", "--runname", RUN, "--testpatt",
                   "ezlog_pass", "--junit", "afile/junit.xml")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "afile" in proc.stderr
    assert "traceback" not in proc.stderr.lower()
    assert not (area.root / ".db").exists() or area.mt("query", "runs", "--runname", RUN,
                                                       "-f", "json").stdout in ("", "[]\n")


def _parallel_area(make_area):
    """Two tests that can only pass while both run at once (each waits for the other)."""
    area = make_area("fullrun")
    wait_for = ("for i in $(seq 1 600); do [ -e $MT_RUN_AREA_HOME/{other}.go ] && exit 0; "
                "sleep 0.1; done; exit 1")
    for me, other in (("para", "parb"), ("parb", "para")):
        _add_test(area, me, f"[ezsteps]\ngo touch $MT_RUN_AREA_HOME/{me}.go; "
                  + wait_for.format(other=other) + "\n")
    return area


_MESSAGE = re.compile(r"^##teamcity\[(\w+)((?: \w+='(?:[^'|]|\|.)*')*)\]$")


def _messages(out: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for line in out.splitlines():
        if not line.startswith("##teamcity"):
            continue
        match = _MESSAGE.match(line)
        assert match, line
        attrs = dict(re.findall(r"(\w+)='((?:[^'|]|\|.)*)'", match.group(2)))
        found.append((match.group(1), attrs))
    return found


def _check_balanced(messages: list[tuple[str, dict[str, str]]]) -> dict[str, list[str]]:
    """Per flowId the kinds in order; every started test finished in its own flow."""
    flows: dict[str, list[str]] = collections.defaultdict(list)
    for kind, attrs in messages:
        flows[attrs["flowId"]].append(kind)
    for flow, kinds in flows.items():
        if kinds[0] == "testSuiteStarted":
            assert kinds == ["testSuiteStarted", "testSuiteFinished"], flow
        elif kinds == ["testIgnored"]:
            continue
        else:
            assert kinds[0] == "testStarted" and kinds[-1] == "testFinished", (flow, kinds)
            assert kinds.count("testStarted") == kinds.count("testFinished") == 1, (flow, kinds)
    assert messages[0][0] == "testSuiteStarted" and messages[-1][0] == "testSuiteFinished"
    return flows


def test_teamcity_live_messages_are_balanced_per_flow_with_tests_in_parallel(make_area):
    area = _parallel_area(make_area)
    proc = area.mt("runs", "start", "--target", "ubuntu/v1", "--runname", RUN, "--testpatt",
                   "para,parb,ezlog_fail,after_fail", "-q", "--teamcity", check=1)
    messages = _messages(proc.stdout)
    flows = _check_balanced(messages)
    kinds = [(kind, attrs.get("name")) for kind, attrs in messages]
    # both started before either finished: they ran side by side, each in its own flow
    assert max(kinds.index(("testStarted", n)) for n in ("para", "parb")) < min(
        kinds.index(("testFinished", n)) for n in ("para", "parb"))
    assert len([f for f, k in flows.items() if "testStarted" in k]) == 3
    failed = [attrs for kind, attrs in messages if kind == "testFailed"]
    assert [a["name"] for a in failed] == ["ezlog_fail"]
    ignored = [attrs for kind, attrs in messages if kind == "testIgnored"]
    assert [a["name"] for a in ignored] == ["after_fail"] and "PREQ_FAIL" in ignored[0]["message"]


def test_teamcity_replay_of_a_finished_run(make_area):
    area = _area_with_control_chars(make_area)
    area.mt("runs", "start", "--target", TARGET, "--runname", RUN, "--testpatt", PATT, "-q",
            check=1)
    proc = area.mt("util", "teamcity", "--target", TARGET, "--runname", RUN, check=0)
    messages = _messages(proc.stdout)
    _check_balanced(messages)
    started = [a["name"] for k, a in messages if k == "testStarted"]
    assert "itemtab(2/y)" in started and "itemtab" not in started
    failed = {a["name"]: a for k, a in messages if k == "testFailed"}
    assert set(failed) == {"ezlog_fail", "exitcode(1)", "exitcode(3)", "exitcode(5)", "ctrl"}
    # one line each: the log's newline and control characters are escaped
    assert "|n" in failed["ctrl"]["details"] and "|0x0001" in failed["ctrl"]["details"]
