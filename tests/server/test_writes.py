"""The write API: POST /runs/<id>/writes, one writer thread per run db, answers once
committed; bad bodies get 400 with one line; a repeated batch is written once."""

from __future__ import annotations

import http.client
import json
import threading

import pytest


def _post(served, path, body, secret=None):
    # the timeout is a hang guard: on a loaded machine 16 calls at once take a while
    conn = http.client.HTTPConnection(served.packet.host, served.packet.port, timeout=60)
    try:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request("POST", path, body=raw,
                     headers={"Authorization": f"Bearer {secret or served.secret}"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _writes(area, writes, batch="b1"):
    return f"/runs/{area.run_id}/writes", {"batch": batch, "writes": writes}


def test_a_batch_of_every_kind_is_in_the_db_when_the_call_returns(run_area, serve_area):
    served = serve_area()
    build, item = run_area.ids[("build", "")], run_area.ids[("unit", "a")]
    path, body = _writes(run_area, [
        {"kind": "step", "test_id": build, "stepname": "compile", "state": "end", "status": "0"},
        {"kind": "data", "test_id": build, "rows": [
            {"category": "perf", "variable": "t", "value": "1.2", "expected": "1", "tol": "0.5"}]},
        {"kind": "fields", "test_id": build, "fields": {"host": "node3", "pid": 4242,
                                                        "final_logf": "out.html"}},
        {"kind": "heartbeat", "test_id": build, "cpuload": 0.5},
        {"kind": "state", "test_id": item, "state": "COMPLETED", "status": "FAIL"},
        {"kind": "state", "test_id": run_area.ids[("unit", "b")], "state": "COMPLETED",
         "status": "PASS"},
        {"kind": "state", "test_id": build, "state": "COMPLETED", "status": "PASS",
         "comment": "done"},
    ])
    assert _post(served, path, body) == (200, {"batch": "b1", "written": 7})
    with run_area.store() as store:
        rec = store.get_test(run_area.run_id, build)
        assert (rec.state, rec.status, rec.comment, rec.host, rec.attemptnum, rec.final_logf) == (
            "COMPLETED", "PASS", "done", "node3", 4242, "out.html")
        assert rec.pass_count == 1
        assert [(s.stepname, s.state, s.status) for s in store.get_steps(run_area.run_id, build)] \
            == [("compile", "end", "0")]
        [data] = store.get_test_data(run_area.run_id, build)
        assert (data.variable, data.status) == ("t", "pass")
        # the item's state rolled up into its parent
        parent = store.get_test(run_area.run_id, run_area.ids[("unit", "")])
        assert (parent.state, parent.status) == ("COMPLETED", "FAIL")


def test_a_repeated_batch_id_is_not_written_again(run_area, serve_area):
    served = serve_area()
    build = run_area.ids[("build", "")]
    path, body = _writes(run_area, [{"kind": "heartbeat", "test_id": build}], batch="hb-1")
    assert _post(served, path, body)[1]["written"] == 1
    assert _post(served, path, body)[1]["written"] == 0


@pytest.mark.parametrize("body,error", [
    (b"not json", "the body is not JSON"),
    ([1], "the body must be a JSON object"),
    ({"batch": "x", "writes": [], "sql": "DROP"}, "unknown key(s) sql"),
    ({"batch": "", "writes": [{}]}, "'batch' must be a string"),
    ({"batch": "x", "writes": []}, "'writes' must be a non-empty list"),
    ({"batch": "x", "writes": [{"kind": "sql", "test_id": 1}]}, "write 0: unknown kind 'sql'"),
    ({"batch": "x", "writes": [{"kind": "state", "test_id": "1"}]}, "'test_id' must be a positive"),
    ({"batch": "x", "writes": [{"kind": "state", "test_id": 1, "state": 3}]},
     "'state' must be a string"),
    ({"batch": "x", "writes": [{"kind": "step", "test_id": 1, "stepname": "s"}]},
     "step needs 'state'"),
    ({"batch": "x", "writes": [{"kind": "fields", "test_id": 1, "fields": {"state": "X"}}]},
     "cannot set test field(s) state"),
    ({"batch": "x", "writes": [{"kind": "data", "test_id": 1, "rows": [{"value": "1"}]}]},
     "each row needs a 'variable'"),
    ({"batch": "x", "writes": [{"kind": "heartbeat", "test_id": 1, "cpuload": "hi"}]},
     "'cpuload' must be a number"),
    # integers SQLite cannot hold (found by the fuzz test as a 500)
    ({"batch": "x", "writes": [{"kind": "heartbeat", "test_id": 2**63}]},
     "'test_id' must be a positive integer below 2**63"),
    ({"batch": "x", "writes": [{"kind": "fields", "test_id": 1, "fields": {"diskfree": 2**64}}]},
     "field 'diskfree' must be a string or a number"),
])
def test_bad_bodies_get_400_with_one_line(run_area, serve_area, body, error):
    served = serve_area()
    status, answer = _post(served, f"/runs/{run_area.run_id}/writes", body)
    assert status == 400 and error in answer["error"] and "\n" not in answer["error"]


def test_unknown_run_and_unknown_test_get_400_and_nothing_is_written(run_area, serve_area):
    served = serve_area()
    build = run_area.ids[("build", "")]
    status, answer = _post(served, "/runs/999/writes",
                           {"batch": "x", "writes": [{"kind": "heartbeat", "test_id": build}]})
    assert status == 400 and "no database for run 999" in answer["error"]
    path, body = _writes(run_area, [
        {"kind": "state", "test_id": build, "state": "COMPLETED", "status": "PASS"},
        {"kind": "step", "test_id": 4321, "stepname": "s", "state": "start", "status": "n/a"}])
    status, answer = _post(served, path, body)
    assert (status, answer) == (400, {"error": f"run {run_area.run_id} has no test 4321"})
    with run_area.store() as store:
        assert store.get_test(run_area.run_id, build).state == "RUNNING"


def test_other_paths_and_methods_are_refused(run_area, serve_area):
    served = serve_area()
    assert _post(served, "/runs/1/sql", {"q": "x"})[0] == 405
    assert _post(served, "/runs", {"q": "x"})[0] == 405


def test_concurrent_batches_all_commit(run_area, serve_area):
    served = serve_area()
    build = run_area.ids[("build", "")]
    results = []

    def client(n):
        rows = [{"category": "c", "variable": f"v{n}-{i}", "value": str(i)} for i in range(5)]
        path, body = _writes(run_area, [{"kind": "data", "test_id": build, "rows": rows}],
                             batch=f"c{n}")
        results.append(_post(served, path, body)[0])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 16
    with run_area.store() as store:
        assert len(store.get_test_data(run_area.run_id, build)) == 80


def test_openapi_description_is_served_and_matches_the_checks(run_area, serve_area):
    from megatest.server import client, wire

    served = serve_area()
    status, doc = client.call(served.packet, served.secret, "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/ping", "/runs", "/openapi.json", "/runs/{run_id}/writes",
                                 "/runs/{run_id}/tests", "/runs/{run_id}/tests/{test_id}"}
    schemas = doc["components"]["schemas"]
    for kind in wire.kinds():
        schema = schemas[f"{kind}Write"]
        # a write with exactly the described required keys passes the server's checks ...
        write = {"kind": kind, "test_id": 1}
        for key in schema["required"][2:]:
            write[key] = {"rows": [{"variable": "v"}], "fields": {"host": "h"}}.get(key, "x")
        wire.check_write(write)
        # ... and every key the checks take is described
        assert set(schema["properties"]) >= set(write)
    for get in ("/ping", "/runs", "/openapi.json"):
        assert client.call(served.packet, served.secret, get)[0] == 200


def test_a_run_db_made_again_behind_the_server_gets_the_next_writes(run_area, serve_area):
    import shutil

    from megatest.store import open_store

    served = serve_area()
    build = run_area.ids[("build", "")]
    row = {"kind": "data", "test_id": build, "rows": [{"variable": "first", "value": "1"}]}
    assert _post(served, *_writes(run_area, [row], batch="one"))[0] == 200
    # the area's dbs wiped and the same run made again: same run id, same test ids
    shutil.rmtree(run_area.root / ".db")
    with open_store(run_area.root, fields=[("SYSTEM", "TEXT")]) as store:
        assert store.get_or_create_run({"SYSTEM": "ubuntu"}, "nightly") == run_area.run_id
        store.register_tests(run_area.run_id, [("build", "")])
    row["rows"] = [{"variable": "second", "value": "2"}]
    assert _post(served, *_writes(run_area, [row], batch="two"))[0] == 200
    with run_area.store() as store:
        assert [d.variable for d in store.get_test_data(run_area.run_id, build)] == ["second"]
    # and a run db removed for good: its writes are refused, not lost silently
    (run_area.root / ".db" / f"{run_area.run_id}.db").unlink()
    status, body = _post(served, *_writes(run_area, [row], batch="three"))
    assert status == 400 and str(run_area.run_id) in body["error"]
