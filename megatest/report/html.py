"""`megatest util html`: static pages of the area's runs, to open from disk or serve as files.

    DIR/index.html                     every run, newest first, and the targets
    DIR/target-<name>.html             per target: a runs x tests matrix of statuses
    DIR/runs/<run id>/index.html       a run's tests and items
    DIR/runs/<run id>/<test id>.html   a test: its record, steps, data, links to its logs

Links are relative (to pages and to the logs in the tests' run directories), so the tree
opens from disk wherever it is looked at from, as long as the run directories stay where
they are. A page is written beside its final name and renamed over it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from megatest.report import cases
from megatest.report.files import replacing
from megatest.report.htmlpage import Markup, cell, link, page, table, when
from megatest.report.logs import log_files, step_log

if TYPE_CHECKING:
    from megatest.store.interface import Store
    from megatest.store.records import RunRecord, StepRecord, TestRecord

Key = tuple[str, str]


def target_page(target: str) -> str:
    """A file name per target: readable, and distinct even where two targets differ only in
    characters a file name cannot hold."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", target)
    return f"target-{safe}-{hashlib.sha1(target.encode()).hexdigest()[:6]}.html"


def href(path: Path | str, start: Path) -> str:
    """A relative link from a page in `start` to `path`."""
    return quote(os.path.relpath(path, start))


def _write(path: Path, body: str) -> None:
    with replacing(path) as out:
        out.write(body)


@dataclass
class _Matrix:
    """One target's runs (newest first) and each test's status in each."""

    runs: list[RunRecord] = field(default_factory=list)
    cells: dict[Key, dict[int, tuple[str, int]]] = field(default_factory=dict)


class HtmlSite:
    """Writes the pages of `runs` under `folder`."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self.pages = 0

    def write(self, runs: list[RunRecord]) -> int:
        """Write every page; returns how many."""
        newest_first = sorted(runs, key=lambda r: (r.event_time or 0, r.id), reverse=True)
        matrices: dict[str, _Matrix] = {}
        for run in newest_first:
            matrix = matrices.setdefault(run.target, _Matrix())
            matrix.runs.append(run)
            self._run_pages(run, matrix)
        for target, matrix in matrices.items():
            self._target_page(target, matrix)
        self._index(newest_first, list(matrices))
        return self.pages

    def _put(self, path: Path, title: str, body: str) -> None:
        _write(path, page(title, body))
        self.pages += 1

    def _index(self, runs: list[RunRecord], targets: list[str]) -> None:
        rows = [
            f"<tr>{cell(Markup(link(target_page(r.target), r.target)))}"
            f"{cell(Markup(link(f'runs/{r.id}/index.html', r.runname)))}"
            f"{cell(r.state)}{cell(r.status, r.status)}{cell(r.pass_count)}{cell(r.fail_count)}"
            f"{cell(when(r.event_time))}</tr>"
            for r in runs
        ]
        listed = "".join(f"<li>{link(target_page(t), t)}</li>" for t in sorted(targets))
        body = (f"<h2>Targets</h2>\n<ul>{listed}</ul>\n<h2>Runs</h2>\n"
                + table(["target", "run", "state", "status", "pass", "fail", "started"], rows))
        self._put(self.folder / "index.html", "Megatest runs", body)

    def _target_page(self, target: str, matrix: _Matrix) -> None:
        head = ["test"] + [f"{r.runname} ({when(r.event_time)})" for r in matrix.runs]
        rows = []
        for key in sorted(matrix.cells):
            name = f"{key[0]}({key[1]})" if key[1] else key[0]
            line = [cell(name)]
            for run in matrix.runs:
                found = matrix.cells[key].get(run.id)
                if found is None:
                    line.append(cell(""))
                    continue
                status, test_id = found
                line.append(cell(Markup(link(f"runs/{run.id}/{test_id}.html", status)), status))
            rows.append("<tr>" + "".join(line) + "</tr>")
        body = f"<p>{link('index.html', 'all runs')}</p>\n" + table(head, rows)
        self._put(self.folder / target_page(target), f"Target {target}", body)

    def _run_pages(self, run: RunRecord, matrix: _Matrix) -> None:
        folder = self.folder / "runs" / str(run.id)
        rows = []
        for test in cases.leaves(self.store.iter_tests(run.id)):
            key = (test.testname, test.item_path)
            matrix.cells.setdefault(key, {})[run.id] = (test.status, test.id)
            rows.append(
                f"<tr>{cell(Markup(link(f'{test.id}.html', test.fullname)))}{cell(test.state)}"
                f"{cell(test.status, test.status)}{cell(when(test.event_time))}"
                f"{cell(test.run_duration or 0)}{cell(test.comment)}</tr>")
            self._test_page(run, test, folder)
        body = (f"<p>{link('../../index.html', 'all runs')} | "
                f"{link('../../' + target_page(run.target), 'target ' + run.target)}</p>\n"
                + table(["test", "state", "status", "started", "seconds", "comment"], rows))
        self._put(folder / "index.html", f"Run {run.target}/{run.runname}", body)

    def _test_page(self, run: RunRecord, test: TestRecord, folder: Path) -> None:
        steps = self.store.get_steps(run.id, test.id)
        record = [("target", run.target), ("run", run.runname), ("state", test.state),
                  ("status", test.status), ("comment", test.comment), ("host", test.host),
                  ("started", when(test.event_time)), ("seconds", test.run_duration or 0),
                  ("run directory", test.rundir)]
        body = (f"<p>{link('index.html', 'run ' + run.runname)} | "
                f"{link('../../index.html', 'all runs')}</p>\n"
                + table(["field", "value"],
                        [f"<tr>{cell(k)}{cell(v, v if k == 'status' else '')}</tr>"
                         for k, v in record]))
        body += "\n<h2>Steps</h2>\n" + self._steps(test, steps, folder)
        body += "\n<h2>Data</h2>\n" + self._data(run, test)
        logs = log_files(test, steps)
        listed = "".join(f"<li>{link(href(p, folder), p.name)}</li>" for p in logs)
        body += "\n<h2>Logs</h2>\n" + (f"<ul>{listed}</ul>" if logs else "<p>none</p>")
        self._put(folder / f"{test.id}.html", f"Test {test.fullname}", body)

    def _steps(self, test: TestRecord, steps: list[StepRecord], folder: Path) -> str:
        """A row per step, its start and end rows put together (as the original's
        test-summary page does)."""
        merged: dict[str, dict[str, StepRecord]] = {}
        for step in steps:
            merged.setdefault(step.stepname, {})[step.state] = step
        rows = []
        for name, ends in merged.items():
            start, end = ends.get("start"), ends.get("end")
            last = end or start
            assert last is not None
            log = step_log(test, last, rendered=True)
            took = (end.event_time - start.event_time
                    if start and end and start.event_time and end.event_time else "")
            rows.append(
                f"<tr>{cell(name)}{cell(when(start.event_time if start else None))}"
                f"{cell(when(end.event_time if end else None))}{cell(last.status)}"
                f"{cell(took)}{cell(last.comment)}"
                f"{cell(Markup(link(href(log, folder), log.name)) if log else '')}</tr>")
        return table(["step", "start", "end", "status", "seconds", "comment", "log"], rows)

    def _data(self, run: RunRecord, test: TestRecord) -> str:
        rows = [f"<tr>{cell(d.category)}{cell(d.variable)}{cell(d.value)}{cell(d.expected)}"
                f"{cell(d.tol)}{cell(d.units or '')}{cell(d.status, d.status.upper())}</tr>"
                for d in self.store.get_test_data(run.id, test.id)]
        return table(["category", "variable", "value", "expected", "tol", "units", "status"],
                     rows) if rows else "<p>none</p>"


def write_site(store: Store, folder: Path, runs: Iterable[RunRecord]) -> int:
    """Write the pages of `runs` under `folder`; returns how many pages."""
    return HtmlSite(store, folder).write(list(runs))
