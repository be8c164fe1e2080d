"""What changed between two runs: each test and item of either run classified as the
original's diff report does (diff-report.scm), plus the changes of duration.

| class        | when                                                             |
|--------------|------------------------------------------------------------------|
| BOTH-BAD     | neither side complete, or both the same bad status               |
| NOT-IN-DEST  | the destination run lacks it, or did not complete it (missing)   |
| NOT-IN-SRC   | the source run lacks it, or did not complete it (new)            |
| CLEAN        | same state and status, a good one                                |
| WORSE        | the source's status ranks better than the destination's          |
| BETTER       | otherwise                                                        |

"Complete" is COMPLETED with a status other than DELETED, INCOMPLETE, STUCK/DEAD and n/a;
statuses rank PASS > WARN > WAIVED > SKIP > FAIL > ABORT > the rest. Both runs are read in
the store's order (test name, item path) and merged, one row of each at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from megatest.report import cases

if TYPE_CHECKING:
    from megatest.store.interface import Store
    from megatest.store.records import RunRecord, TestRecord

CLASSES = ("CLEAN", "BETTER", "WORSE", "BOTH-BAD", "NOT-IN-DEST", "NOT-IN-SRC")
_RANK = {status: rank for rank, status in enumerate(("PASS", "WARN", "WAIVED", "SKIP", "FAIL",
                                                     "ABORT"))}
_GOOD = frozenset({"PASS", "SKIP", "WAIVED", "WARN"})
_NOT_COMPLETE = frozenset({"DELETED", "INCOMPLETE", "STUCK/DEAD", "N/A"})
# a duration change worth telling: half as long again (or half as short), and 10 s at least
DURATION_RATIO = 1.5
DURATION_MIN_SECONDS = 10


@dataclass
class Row:
    test: str
    item: str
    diff: str  # one of CLASSES
    detail: str  # e.g. PASS->FAIL, CLEAN-PASS, DEST-INCOMPLETE
    src_state: str = ""
    src_status: str = ""
    dest_state: str = ""
    dest_status: str = ""
    src_duration: int | None = None
    dest_duration: int | None = None
    duration_change: str = ""  # "slower" / "faster" / ""

    @property
    def name(self) -> str:
        return f"{self.test}/{self.item}" if self.item else self.test


@dataclass
class Diff:
    src: RunRecord
    dest: RunRecord
    counts: Counter = field(default_factory=Counter)
    changes: list[Row] = field(default_factory=list)  # every row but the unchanged CLEAN ones

    def as_dict(self) -> dict[str, Any]:
        def run(r: RunRecord) -> dict[str, Any]:
            return {"target": r.target, "runname": r.runname, "id": r.id,
                    "start": r.event_time, "state": r.state, "status": r.status}

        return {"source": run(self.src), "destination": run(self.dest),
                "summary": {name: self.counts.get(name, 0) for name in CLASSES},
                "total": sum(self.counts.values()),
                "changes": [asdict(row) for row in self.changes]}


def _complete(test: TestRecord | None) -> bool:
    return (test is not None and test.state == "COMPLETED"
            and test.status.upper() not in _NOT_COMPLETE)


def classify(src: TestRecord | None, dest: TestRecord | None) -> tuple[str, str]:
    """(class, detail) of one test, as in the table above."""
    src_ok, dest_ok = _complete(src), _complete(dest)
    if not src_ok and not dest_ok:
        return "BOTH-BAD", "BOTH-INCOMPLETE"
    if not dest_ok:
        return "NOT-IN-DEST", "DEST-INCOMPLETE" if dest is not None else "MISSING"
    if not src_ok:
        return "NOT-IN-SRC", "SRC-INCOMPLETE" if src is not None else "NEW"
    assert src is not None and dest is not None
    if (src.state, src.status) == (dest.state, dest.status):
        return ("CLEAN" if src.status in _GOOD else "BOTH-BAD"), f"CLEAN-{src.status}"
    if _RANK.get(src.status, len(_RANK)) < _RANK.get(dest.status, len(_RANK)):
        return "WORSE", f"{src.status}->{dest.status}"
    return "BETTER", f"{src.status}->{dest.status}"


def duration_change(src: int | None, dest: int | None) -> str:
    if not src or not dest or abs(dest - src) < DURATION_MIN_SECONDS:
        return ""
    if dest >= src * DURATION_RATIO:
        return "slower"
    if src >= dest * DURATION_RATIO:
        return "faster"
    return ""


def _row(src: TestRecord | None, dest: TestRecord | None) -> Row:
    either = src or dest
    assert either is not None
    diff, detail = classify(src, dest)
    row = Row(either.testname, either.item_path, diff, detail)
    if src is not None:
        row.src_state, row.src_status, row.src_duration = src.state, src.status, src.run_duration
    if dest is not None:
        row.dest_state, row.dest_status = dest.state, dest.status
        row.dest_duration = dest.run_duration
    row.duration_change = duration_change(row.src_duration, row.dest_duration)
    return row


def _merged(a: Iterator[TestRecord], b: Iterator[TestRecord]) -> Iterator[Row]:
    """Rows of two streams sorted by (test name, item path), matched by that key."""
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        kx = (x.testname, x.item_path) if x is not None else None
        ky = (y.testname, y.item_path) if y is not None else None
        if ky is None or (kx is not None and kx < ky):
            yield _row(x, None)
            x = next(a, None)
        elif kx is None or ky < kx:
            yield _row(None, y)
            y = next(b, None)
        else:
            yield _row(x, y)
            x, y = next(a, None), next(b, None)


def diff_runs(store: Store, src: RunRecord, dest: RunRecord) -> Diff:
    """Compare the leaves (tests and items) of `src` and `dest`."""
    result = Diff(src, dest)
    for row in _merged(cases.leaves(store.iter_tests(src.id)),
                       cases.leaves(store.iter_tests(dest.id))):
        result.counts[row.diff] += 1
        if row.diff != "CLEAN" or row.duration_change:
            result.changes.append(row)
    return result


def text(diff: Diff) -> str:
    """The diff for a terminal: the two runs, the counts, one line per change."""
    lines = [f"source:      {diff.src.target}/{diff.src.runname}",
             f"destination: {diff.dest.target}/{diff.dest.runname}",
             "summary: " + ", ".join(f"{name} {diff.counts.get(name, 0)}" for name in CLASSES)]
    for row in diff.changes:
        src = f"{row.src_state}/{row.src_status}" if row.src_state else "-"
        dest = f"{row.dest_state}/{row.dest_status}" if row.dest_state else "-"
        took = ""
        if row.duration_change:
            took = f"  {row.duration_change}: {row.src_duration}s -> {row.dest_duration}s"
        lines.append(f"{row.diff:<12} {row.name:<30} {src} -> {dest}  ({row.detail}){took}")
    return "\n".join(lines) + "\n"


def html(diff: Diff, generated: str) -> str:
    """The diff as one HTML page: the two runs, the share of each class, every change."""
    from megatest.report.htmlpage import cell, page, table, when

    total = sum(diff.counts.values()) or 1
    runs = [f"<tr>{cell(side)}{cell(r.target)}{cell(r.runname)}{cell(when(r.event_time))}</tr>"
            for side, r in (("source", diff.src), ("destination", diff.dest))]
    summary = [f"<tr>{cell(name, name)}{cell(diff.counts.get(name, 0))}"
               f"{cell(f'{100 * diff.counts.get(name, 0) / total:.1f}%')}</tr>"
               for name in CLASSES]
    rows = [f"<tr>{cell(row.test)}{cell(row.item)}{cell(row.src_status or '-', row.src_status)}"
            f"{cell(row.dest_status or '-', row.dest_status)}{cell(row.diff, row.diff)}"
            f"{cell(row.detail)}{cell(row.duration_change)}</tr>" for row in diff.changes]
    body = (f'<p class="small">generated {generated}</p>\n'
            + table(["", "target", "run", "started"], runs)
            + table(["class", "count", "share"], summary)
            + table(["test", "item", "source", "destination", "class", "detail", "duration"],
                    rows))
    title = (f"{diff.src.target}/{diff.src.runname} vs. {diff.dest.target}/"
             f"{diff.dest.runname}")
    return page(f"Diff: {title}", body)


