"""The end of a run: counts by outcome, what failed and why, and the lines a user reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from megatest.engine.model import Key, Row, TestPlan, full_name
from megatest.engine.progress import GOOD, label


@dataclass
class RunOutcome:
    run_id: int
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # name, state/status, why
    elapsed: float = 0.0  # seconds on the runner's clock

    def lines(self, title: str) -> list[str]:
        """`title: PASS 3, FAIL 1 (2.0s)` and one line per failure."""
        summary = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        lines = [f"{title}: {summary} ({self.elapsed:.1f}s)"]
        for name, state, why in self.failures:
            lines.append(f"  {name}: {state}" + (f"  {why}" if why else ""))
        return lines


def summarize(run_id: int, plans: Sequence[TestPlan], rows: Mapping[Key, Row],
              elapsed: float = 0.0) -> RunOutcome:
    """The outcome of the selected tests: a plain test counts once, an itemized test once per
    wanted item (its top row when it never got items or was given up on). Exit code 0 when
    every one ended PASS/WARN/WAIVED/SKIP, else 1."""
    counts: dict[str, int] = {}
    failures: list[tuple[str, str, str]] = []
    item_keys: dict[str, list[Key]] = {}
    for k in rows:
        if k[1]:
            item_keys.setdefault(k[0], []).append(k)
    for plan in plans:
        keys = [k for k in item_keys.get(plan.name, ()) if plan.item_wanted(k[1])]
        top = rows.get((plan.name, ""), Row())
        if not keys or top.casualty:
            keys = [(plan.name, "")]
        for key in keys:
            row = rows.get(key, Row())
            word = label(row.state, row.status)
            counts[word] = counts.get(word, 0) + 1
            if not (row.state == "COMPLETED" and row.status in GOOD):
                failures.append((full_name(key), str(row), row.comment))
    return RunOutcome(run_id, 1 if failures else 0, counts, failures, elapsed)
