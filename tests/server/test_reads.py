"""The read endpoints: a run's tests (by pattern, changed since a time) and one test with
its steps and data, as a dashboard on another machine reads them."""

from __future__ import annotations

from megatest.server import client


def _get(served, path):
    return client.call(served.packet, served.secret, path, timeout=60)


def test_a_runs_tests_and_one_test_with_its_steps_and_data(run_area, serve_area):
    served = serve_area()
    run, build = run_area.run_id, run_area.ids[("build", "")]
    with run_area.store() as store:
        store.add_step(run, build, "compile", "end", "0", "compile.log", "")
        store.add_test_data(run, build, [{"category": "perf", "variable": "t", "value": "2"}])
    status, rows = _get(served, f"/runs/{run}/tests")
    assert status == 200
    assert {(r["testname"], r["item_path"], r["state"]) for r in rows} == {
        ("build", "", "RUNNING"), ("unit", "", "NOT_STARTED"), ("unit", "a", "NOT_STARTED"),
        ("unit", "b", "NOT_STARTED")}
    status, rows = _get(served, f"/runs/{run}/tests?testpatt=unit/a")
    assert status == 200 and [(r["testname"], r["item_path"]) for r in rows] == [("unit", "a")]
    status, test = _get(served, f"/runs/{run}/tests/{build}")
    assert status == 200 and test["testname"] == "build"
    assert [(s["stepname"], s["state"], s["logfile"]) for s in test["steps"]] == [
        ("compile", "end", "compile.log")]
    assert [(d["variable"], d["value"]) for d in test["data"]] == [("t", 2)]


def test_changed_since_leaves_out_what_did_not_change(run_area, serve_area):
    served = serve_area()
    run = run_area.run_id
    status, rows = _get(served, f"/runs/{run}/tests")
    latest = max(r["last_update"] or 0 for r in rows)
    status, later = _get(served, f"/runs/{run}/tests?since={latest + 3600}")
    assert status == 200 and later == []


def test_unknown_runs_tests_and_bad_parameters_are_one_line(run_area, serve_area):
    served = serve_area()
    run = run_area.run_id
    assert _get(served, "/runs/999/tests") == (404, {"error": "no run 999"})
    assert _get(served, f"/runs/{run}/tests/999") == (404, {"error": f"run {run} has no test 999"})
    status, body = _get(served, f"/runs/{run}/tests?since=yesterday")
    assert status == 400 and "since" in body["error"]
    assert _get(served, "/nothing/here")[0] == 404
