"""`query tests` writes each row as it reads it: the JSON and text listings of a run bigger
than one page are whole, in order, and the JSON is the one json.dumps gives the list."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest

from megatest.cli import rows_out
from megatest.store import open_store

FIELDS = ["SYSTEM", "RELEASE"]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_streamed_json_is_what_json_dumps_gives(count):
    # flat rows of every scalar kind; the third holds a list (written the general way)
    rows = [{"test": f"t{i}", "item": "", "comment": "a\nb\u00e9\"" if i else "",
             "start": None if i else 1796551324, "value": 5.0, "ok": bool(i)}
            for i in range(count)]
    if count == 3:
        rows[2]["nested"] = [1, {"k": "v"}]
    out = io.StringIO()
    with redirect_stdout(out):
        rows_out.emit(iter(rows), "json", str)
    assert out.getvalue() == json.dumps(rows, indent=2) + "\n"


def test_a_listing_longer_than_a_page_is_whole(megatest, tmp_path, monkeypatch):
    (tmp_path / "megatest.config").write_text("[fields]\nSYSTEM TEXT\nRELEASE TEXT\n")
    (tmp_path / "runconfigs.config").write_text("[default]\n")
    with open_store(tmp_path, fields=FIELDS) as store:
        run_id = store.get_or_create_run({"SYSTEM": "a", "RELEASE": "b"}, "r")
        # 2,500 items: three pages of the store's listing
        store.register_tests(run_id, [("t", f"{k:04d}") for k in range(2500)])
    args = ("--area", str(tmp_path), "query", "tests", "--target", "a/b", "--runname", "r")
    listed = megatest(*args, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["item"] for r in rows] == ["", *(f"{k:04d}" for k in range(2500))]
    text = megatest(*args)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == 2501 and lines[-1].startswith("a/b/r  t/2499 ")
