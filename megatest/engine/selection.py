"""Which tests a run selects: test pattern, tag expression and the waiton closure.

Reference 1.4 steps 9, 11, 12 and 16: the names matching `--tagexpr` (any tag matching)
AND `--testpatt` (test part only), then every waiton/waitor of a selected test is pulled in,
transitively; each pulled-in waiton extends the pattern (`B/x%` with B waiting on A also
selects `A/x%`, through B's itemmap for A), and exact names in the pattern are "required":
such a test runs all of its items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from megatest.config.patterns import (
    exact_test_names,
    extend_test_patterns,
    filter_test_names,
    match_test,
    patt_list_match,
)


class TestDef(Protocol):
    """What selection needs from one test's config."""

    name: str

    waiton: list[str]
    waitor: list[str]
    tags: list[str]

    @property
    def itemized(self) -> bool: ...

    def itemmap_for(self, waiton: str) -> str | None: ...


@dataclass
class Selection:
    names: list[str]  # selected tests, waitons included, in discovery order
    testpatt: str  # the pattern after waiton extension
    required: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    waitons: dict[str, list[str]] = field(default_factory=dict)  # valid waitons per test

    def item_wanted(self, test: str, item_path: str) -> bool:
        return match_test(self.testpatt, test, item_path, self.required)


def select_tests(
    all_names: Sequence[str],
    load: Callable[[str], TestDef],
    testpatt: str,
    tagexpr: str | None = None,
) -> Selection:
    """Resolve the run's tests. `load(name)` reads a testconfig (raising ConfigError if bad)."""
    known = set(all_names)
    names = list(all_names)
    if tagexpr:
        names = [n for n in names if any(patt_list_match(tag, tagexpr) for tag in load(n).tags)]
    chosen = filter_test_names(names, testpatt)
    selection = Selection(names=[], testpatt=testpatt)
    selection.required = exact_test_names(testpatt, known)
    selected = dict.fromkeys(chosen)
    queue = list(chosen)
    while queue:
        name = queue.pop(0)
        test = load(name)
        waitons = _valid(name, test.waiton, known, selection.warnings, "waiton")
        selection.waitons[name] = waitons
        waitors = _valid(name, test.waitor, known, selection.warnings, "waitor")
        for other in [*waitons, *waitors]:
            if other in selected:
                continue
            selected[other] = None
            queue.append(other)
            selection.required.append(f"{other}/" if load(other).itemized else other)
            selection.testpatt = extend_test_patterns(
                selection.testpatt, name, other, test.itemmap_for(other)
            )
    order = {n: i for i, n in enumerate(all_names)}
    selection.names = sorted(selected, key=order.__getitem__)
    return selection


def _valid(
    name: str, wanted: Sequence[str], known: set[str], warnings: list[str], what: str
) -> list[str]:
    out = []
    for other in wanted:
        if other == name:
            warnings.append(f"test {name} lists itself as a {what}; ignored")
        elif other not in known:
            warnings.append(f"test {name}: {what} {other} is not a test of this area; ignored")
        elif other not in out:
            out.append(other)
    return out
