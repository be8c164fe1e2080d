"""Parsing of the in-test helper command lines, both forms."""

from __future__ import annotations

import pytest

from megatest.engine.helpers import legacy_action, parse, read_csv_rows
from megatest.errors import UsageError


def test_legacy_forms():
    assert parse(["-test-status", ":state", "COMPLETED", ":status", "0", "-m", "ok"]) == (
        "status", {"state": "COMPLETED", "status": "0", "comment": "ok"})
    assert parse(["-step", "compile", ":state", "end", ":status", "2"]) == (
        "step", {"name": "compile", "state": "end", "status": "2"})
    assert parse(["-set-values", ":category", "c", ":variable", "v", ":value", "1",
                  ":expected", "1", ":tol", "0", ":units", "s"])[1]["units"] == "s"
    assert parse(["-setlog", "out.log"]) == ("setlog", {"path": "out.log"})
    assert parse(["-m", "just a comment"]) == ("comment", {"comment": "just a comment"})


def test_sectioned_forms_and_what_is_not_a_helper():
    assert parse(["test", "step", "--name", "x", "--state", "start"]) == (
        "step", {"name": "x", "state": "start"})
    assert parse(["test", "comment", "hello"]) == ("comment", {"comment": "hello"})
    assert legacy_action(["-run", "-target", "a/b", "-m", "x"]) is None
    assert legacy_action(["-list-runs", "%"]) is None
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
