"""The pieces of the reports: escaping, which rows a report lists, verdicts, the live JUnit
file's pace."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from megatest.engine.run_events import RunEnd, TestChange
from megatest.engine.summary import RunOutcome
from megatest.executor.reporter import TestRef
from megatest.report import cases, teamcity, xmltext
from megatest.report.live import LiveJUnit
from megatest.store import open_store


def test_teamcity_values_stay_on_one_line_by_the_formats_escapes():
    assert teamcity.escape("a|b'c\nd\re[f]\x01\u2028") == "a||b|'c|nd|re|[f|]|0x0001|l"
    line = teamcity.message("testFailed", name="t(x/1)", message="it's\nbad", flowId="r1.t2")
    assert line == "##teamcity[testFailed name='t(x/1)' message='it|'s|nbad' flowId='r1.t2']"


def test_teamcity_names_have_no_dots_to_split_on():
    assert teamcity.test_name("sim.v2", "seed.1/a") == "sim_v2(seed.1/a)"
    assert teamcity.suite_name("r.1", "ubuntu/gcc12.2") == "r_1/ubuntu_gcc12_2"


def test_xml_text_drops_what_xml_cannot_hold_and_escapes_markup():
    raw = "a\x00b\x1b[31m\ud800 <&> \"q\"\tz\n"
    assert xmltext.text(raw) == "ab[31m &lt;&amp;&gt; \"q\"\tz\n"
    assert xmltext.attr(raw) == "ab[31m &lt;&amp;&gt; &quot;q&quot;&#9;z&#10;"
    ET.fromstring(f'<a b="{xmltext.attr(raw)}">{xmltext.text(raw)}</a>')  # parses


class _Rec:
    def __init__(self, testname: str, item_path: str = "") -> None:
        self.testname, self.item_path = testname, item_path


def test_leaves_drop_the_top_rows_of_itemized_tests_only():
    rows = [_Rec("a"), _Rec("b"), _Rec("b", "1"), _Rec("b", "2"), _Rec("c"), _Rec("d", "x")]
    assert [(r.testname, r.item_path) for r in cases.leaves(rows)] == [
        ("a", ""), ("b", "1"), ("b", "2"), ("c", ""), ("d", "x")]


def test_verdicts_follow_the_runs_exit_code():
    assert cases.verdict("COMPLETED", "PASS") == cases.PASSED
    assert cases.verdict("COMPLETED", "WAIVED") == cases.PASSED
    assert cases.verdict("COMPLETED", "CHECK") == cases.FAILURE
    assert cases.verdict("COMPLETED", "ABORT") == cases.ERROR
    assert cases.verdict("INCOMPLETE", "DEAD") == cases.ERROR
    assert cases.verdict("COMPLETED", "SKIP") == cases.SKIPPED
    assert cases.verdict("NOT_STARTED", "PREQ_FAIL") == cases.SKIPPED
    assert cases.verdict("NOT_STARTED", "n/a") == cases.PENDING
    assert cases.verdict("RUNNING", "n/a") == cases.PENDING


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _tests_in(path) -> list[str]:
    return [c.get("name") for c in ET.parse(path).getroot().iter("testcase")]


def test_live_junit_is_rewritten_as_tests_end_at_a_bounded_pace(tmp_path):
    (tmp_path / "megatest.config").write_text("[fields]\nSYSTEM TEXT\n")
    with open_store(tmp_path, fields=["SYSTEM"]) as store:
        run_id = store.get_or_create_run({"SYSTEM": "linux"}, "r1")
        ids = store.register_tests(run_id, [("a", ""), ("b", ""), ("c", "")])
    out = tmp_path / "junit.xml"
    clock = _Clock()
    live = LiveJUnit(tmp_path, out, clock=clock)

    def end(name: str) -> None:
        with open_store(tmp_path, create=False) as store:
            store.set_test_state_status(run_id, ids[(name, "")], "COMPLETED", "PASS")
        live.test_changed(TestChange(TestRef(name, "", ids[(name, "")], run_id),
                                     "COMPLETED", "PASS", None))

    live.turn()
    assert not out.exists()  # nothing ended yet
    end("a")
    live.turn()
    assert _tests_in(out) == ["a"]  # queued tests are left out of the live file
    end("b")
    live.turn()
    assert _tests_in(out) == ["a"] and live.writes == 1  # within the interval: not yet
    clock.now += 1.0
    live.turn()
    assert _tests_in(out) == ["a", "b"] and live.writes == 2
    live.run_ended(RunEnd("linux", "r1", RunOutcome(run_id, 1)))
    # the run's end lists every test: c never ran
    root = ET.parse(out).getroot()
    assert _tests_in(out) == ["a", "b", "c"] and root.get("tests") == "3"
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith(".junit")] == []


def test_live_junit_that_cannot_write_warns_once_and_never_stops_the_run(tmp_path):
    import io

    (tmp_path / "megatest.config").write_text("[fields]\nSYSTEM TEXT\n")
    with open_store(tmp_path, fields=["SYSTEM"]) as store:
        run_id = store.get_or_create_run({"SYSTEM": "linux"}, "r1")
        ids = store.register_tests(run_id, [("a", "")], state="COMPLETED", status="PASS")
    blocker = tmp_path / "out"
    blocker.write_text("a file where the report's folder should be")
    err, clock = io.StringIO(), _Clock()
    live = LiveJUnit(tmp_path, blocker / "junit.xml", clock=clock, err=err)
    change = TestChange(TestRef("a", "", ids[("a", "")], run_id), "COMPLETED", "PASS", None)
    for _ in range(3):
        live.test_changed(change)
        live.turn()
        clock.now += 5
    assert err.getvalue().count("\n") == 1 and "--junit" in err.getvalue()
    blocker.unlink()
    live.turn()  # the cause is gone: written at the next chance
    assert _tests_in(blocker / "junit.xml") == ["a"]


def test_teamcity_messages_end_quietly_when_the_reader_goes_away():
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            pass

    emit = teamcity.Emitter(ClosedPipe())  # type: ignore[arg-type]
    emit("testStarted", name="a", flowId="r1.t1")
    emit("testFinished", name="a", flowId="r1.t1")
    assert emit.closed
