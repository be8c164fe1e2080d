"""HTML pages opened in a real browser, and run diffs, on real runs of the original-style area."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

TARGET = "ubuntu/v1"
CHROMIUM = Path("/usr/bin/chromium")


def _flip_area(make_area):
    """An area with a test that passes until the file flip.fail exists."""
    area = make_area("fullrun")
    folder = area.root / "tests" / "flip"
    folder.mkdir()
    (folder / "testconfig").write_text(
        "[ezsteps]\ncheck [ ! -e $MT_RUN_AREA_HOME/flip.fail ]\n")
    return area


def test_diff_of_two_runs_says_what_changed(make_area):
    area = _flip_area(make_area)
    area.mt("runs", "start", "--target", TARGET, "--runname", "before", "--testpatt",
            "flip,ezlog_pass,itemtab", "-q", check=0)
    (area.root / "flip.fail").write_text("")
    area.mt("runs", "start", "--target", TARGET, "--runname", "after", "--testpatt",
            "flip,ezlog_pass,skipme", "-q", check=1)
    args = ("util", "diff", "--src-target", TARGET, "--src-runname", "before", "--target",
            TARGET, "--runname", "after")
    result = json.loads(area.mt(*args, "--format", "json", check=0).stdout)
    changes = {(c["test"], c["item"]): (c["diff"], c["detail"]) for c in result["changes"]}
    assert changes[("flip", "")] == ("WORSE", "PASS->FAIL")
    assert changes[("skipme", "")] == ("NOT-IN-SRC", "NEW")
    assert changes[("itemtab", "2/y")] == ("NOT-IN-DEST", "MISSING")  # items are tests too
    assert ("ezlog_pass", "") not in changes  # unchanged
    assert result["summary"]["WORSE"] == 1 and result["summary"]["CLEAN"] == 1
    text = area.mt(*args, check=0).stdout
    assert any(line.startswith("WORSE") and "flip" in line and "PASS->FAIL" in line
               for line in text.splitlines())
    page = area.root / "diff.html"
    area.mt("-diff-rep", "-src-target", TARGET, "-src-runname", "before", "-target", TARGET,
            "-runname", "after", "-diff-html", str(page), check=0)
    html = page.read_text()
    assert "PASS-&gt;FAIL" in html and 'class="WORSE"' in html


def test_diff_with_an_unknown_run_is_one_line_error(make_area):
    area = _flip_area(make_area)
    area.mt("runs", "start", "--target", TARGET, "--runname", "before", "--testpatt", "flip",
            "-q", check=0)
    proc = area.mt("util", "diff", "--src-target", TARGET, "--src-runname", "before",
                   "--target", TARGET, "--runname", "nosuch")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "nosuch" in proc.stderr


def _crawl(page, index: Path) -> tuple[set[Path], set[Path]]:
    """Every page reachable from `index` opened in the browser; every link checked. Returns
    the pages visited and the files linked outside the site (logs)."""
    pages: set[Path] = set()
    files: set[Path] = set()
    todo = deque([index])
    while todo:
        path = todo.popleft()
        if path in pages:
            continue
        response = page.goto(path.as_uri())
        assert response is not None and response.ok, path
        assert page.title(), path
        pages.add(path)
        for url in page.eval_on_selector_all("a", "els => els.map(e => e.href)"):
            parsed = urlparse(url)
            assert parsed.scheme == "file", url  # nothing leaves the disk
            target = Path(unquote(parsed.path))
            assert target.is_file(), f"{path} links to missing {target}"
            if target.is_relative_to(index.parent):  # a page of the site: opened in turn
                todo.append(target)
            else:  # a log in a test's run directory
                files.add(target)
    return pages, files


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_html_pages_open_in_a_browser_and_every_link_resolves(make_area):
    from playwright.sync_api import sync_playwright

    area = _flip_area(make_area)
    for runname in ("one", "two"):
        area.mt("runs", "start", "--target", TARGET, "--runname", runname, "--testpatt",
                "flip,ezlog_fail,itemtab,newform,after_fail", "-q", check=1)
    out = area.root / "pages"
    proc = area.mt("util", "html", "-o", str(out), check=0)
    assert str(out / "index.html") in proc.stdout
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            pages, files = _crawl(page, out / "index.html")
            # the matrix: a row per test or item, a column per run, a status in each cell
            (matrix,) = [p for p in pages if p.name.startswith("target-")]
            page.goto(matrix.as_uri())
            rows = page.eval_on_selector_all(
                "tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))")
            by_test = {r[0]: r[1:] for r in rows[1:]}
            assert by_test["itemtab(2/y)"] == ["PASS", "PASS"]
            assert by_test["ezlog_fail"] == ["FAIL", "FAIL"] and "itemtab" not in by_test
            # a test's page: its steps with their logs, its data
            fail_page = next(p for p in pages if "Test ezlog_fail" in p.read_text())
            page.goto(fail_page.as_uri())
            assert "check" in page.inner_text("table >> nth=1")
            data_page = next(p for p in pages if "Test newform" in p.read_text())
            page.goto(data_page.as_uri())
            assert "5.0" in page.inner_text("table >> nth=2")
        finally:
            browser.close()
    assert any(f.name == "check.html" for f in files) and any(f.name == "check.log" for f in files)
    assert len(pages) == 1 + 1 + 2 + 2 * 7  # index, matrix, 2 runs, 7 leaves in each
