"""Parsing of the in-test helper command lines, both forms."""

from __future__ import annotations

import pytest

from megatest.engine.helpers import HelperCall, legacy_action, parse, read_csv_rows
from megatest.errors import UsageError


def test_legacy_forms():
    assert parse(["-test-status", ":state", "COMPLETED", ":status", "0", "-m", "ok"]) == HelperCall(
        ("status",), {"state": "COMPLETED", "status": "0", "comment": "ok"}, [])
    assert parse(["-step", "compile", ":state", "end", ":status", "2"]) == HelperCall(
        ("step",), {"name": "compile", "state": "end", "status": "2"}, [])
    assert parse(["-set-values", ":category", "c", ":variable", "v", ":value", "1",
                  ":expected", "1", ":tol", "0", ":units", "s"]).opts["units"] == "s"
    assert parse(["-setlog", "out.log"]) == HelperCall(("setlog",), {"setlog": "out.log"}, [])
    assert parse(["-m", "just a comment"]) == HelperCall(("comment",), {"comment": "just a comment"}, [])


def test_setlog_and_toplog_combine_with_step_and_status_in_the_originals_order():
    # -setlog first on the line, still done after the step row (the step's log is the file)
    call = parse(["-setlog", "r.html", "-step", "report", ":state", "end", ":status", "0"])
    assert call.actions == ("step", "setlog")
    assert call.opts == {"setlog": "r.html", "name": "report", "state": "end", "status": "0"}
    call = parse(["-test-status", ":state", "COMPLETED", ":status", "0", "-set-toplog", "t.html",
                  "-setlog", "f.html"])
    assert call.actions == ("setlog", "set-toplog", "status")
    assert parse(["test", "status", "--state", "COMPLETED", "--toplog", "t"]).actions == (
        "set-toplog", "status")
    assert parse(["test", "set-toplog", "--path", "t"]).opts == {"toplog": "t"}


def test_the_originals_extra_status_keys():
    call = parse(["-test-status", ":state", "COMPLETED", ":status", "PASS", ":first_err", "e",
                  ":first_warn", "w", ":value", "1", ":expected_value", "2", ":tol", "1",
                  ":comment", "about the value", "-m", "about the test"])
    assert call.opts == {"state": "COMPLETED", "status": "PASS", "first_err": "e", "first_warn": "w",
                         "value": "1", "expected": "2", "tol": "1",
                         "data_comment": "about the value", "comment": "about the test"}
    assert parse(["test", "status", "--first-err", "e"]).opts == {"first_err": "e"}


def test_runstep_takes_the_words_it_does_not_know_as_the_command():
    call = parse(["-runstep", "w", "-logpro", "w.logpro", "sleep 0; echo hi", "-m", "c"])
    assert call == HelperCall(("runstep",), {"name": "w", "logpro": "w.logpro", "comment": "c"},
                              ["sleep 0; echo hi"])
    assert parse(["-runstep", "l", "ls", "-l"]).command == ["ls", "-l"]
    # the sectioned form: everything after -- is the command
    assert parse(["test", "runstep", "--name", "s", "--", "ls", "-m", "x"]).command == ["ls", "-m", "x"]
    for bad in (["-runstep", "s"], ["-runstep", "a/b", "true"], ["-runstep", ".."], ["-runstep"]):
        with pytest.raises(UsageError):
            parse(bad)


def test_sectioned_forms_and_what_is_not_a_helper():
    assert parse(["test", "step", "--name", "x", "--state", "start"]) == HelperCall(
        ("step",), {"name": "x", "state": "start"}, [])
    assert parse(["test", "comment", "hello"]) == HelperCall(("comment",), {"comment": "hello"}, [])
    assert legacy_action(["-run", "-target", "a/b", "-m", "x"]) is None
    assert legacy_action(["-list-runs", "%"]) is None
    assert legacy_action(["-runstep", "s", "true"]) == "runstep"
    with pytest.raises(UsageError):
        parse(["-test-status", ":state"])
    with pytest.raises(UsageError):
        parse(["test", "bogus"])


def test_load_data_csv():
    rows = read_csv_rows("perf,speed,10,9,2\n\nmem,peak,5,5,0,MB,fine,PASS,gauge\n")
    assert rows[0]["variable"] == "speed" and rows[0]["units"] is None
    assert rows[1]["type"] == "gauge"
    with pytest.raises(UsageError):
        read_csv_rows("only-a-category\n")


def test_load_data_trims_the_fields_as_the_original():
    (row,) = read_csv_rows(' perf , speed , 10 ,9, 2 , km/h , "a, quoted" ,  , gauge \n')
    assert row == {"category": "perf", "variable": "speed", "value": "10", "expected": "9",
                   "tol": "2", "units": "km/h", "comment": "a, quoted", "status": None,
                   "type": "gauge"}
