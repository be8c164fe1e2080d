"""Which tests a run selects: test pattern, tag expression and the waiton closure.

Reference 1.4 steps 9, 11, 12 and 16: the names matching `--tagexpr` (any tag matching)
AND `--testpatt` (test part only), then every waiton/waitor of a selected test is pulled in,
transitively; each pulled-in waiton extends the pattern (`B/x%` with B waiting on A also
selects `A/x%`, through B's itemmap for A), and exact names in the pattern are "required":
such a test runs all of its items.

A testconfig is read only when selection needs it: the pattern is applied to the folder
names first, so a test it leaves out is never read. One that cannot be read (ConfigError)
does not stop the selection: it is kept in `broken` with its error, selected as its name
says (under `--tagexpr` too, since its tags cannot be known), with no waitons of its own.
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
from megatest.errors import ConfigError


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
    broken: dict[str, ConfigError] = field(default_factory=dict)  # selected, unreadable

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
    selection = Selection(names=[], testpatt=testpatt)
    read = _Reader(load, selection.broken)
    # the pattern first (it needs nothing but the names), then the tags: the same AND
    chosen = filter_test_names(all_names, testpatt)
    if tagexpr:
        chosen = [n for n in chosen if read.tagged(n, tagexpr)]
    selection.required = exact_test_names(testpatt, known)
    selected = dict.fromkeys(chosen)
    queue = list(chosen)
    while queue:
        name = queue.pop(0)
        test = read(name)
        if test is None:
            selection.waitons[name] = []
            continue
        waitons = _valid(name, test.waiton, known, selection.warnings, "waiton")
        selection.waitons[name] = waitons
        waitors = _valid(name, test.waitor, known, selection.warnings, "waitor")
        for other in [*waitons, *waitors]:
            if other in selected:
                continue
            selected[other] = None
            queue.append(other)
            other_test = read(other)
            itemized = other_test is not None and other_test.itemized
            selection.required.append(f"{other}/" if itemized else other)
            selection.testpatt = extend_test_patterns(
                selection.testpatt, name, other, test.itemmap_for(other)
            )
    order = {n: i for i, n in enumerate(all_names)}
    selection.names = sorted(selected, key=order.__getitem__)
    return selection


class _Reader:
    """`load` that answers None for a testconfig that cannot be read, its error kept (each
    test is tried once: the reader's message is said once, and a broken file not reread)."""

    def __init__(self, load: Callable[[str], TestDef], broken: dict[str, ConfigError]):
        self.load = load
        self.broken = broken

    def __call__(self, name: str) -> TestDef | None:
        if name in self.broken:
            return None
        try:
            return self.load(name)
        except ConfigError as exc:
            self.broken[name] = exc
            return None

    def tagged(self, name: str, tagexpr: str) -> bool:
        """Any tag matching; a test whose tags cannot be read is kept, to say it is broken
        (left out, it would vanish from the run without a word)."""
        test = self(name)
        return test is None or any(patt_list_match(tag, tagexpr) for tag in test.tags)


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
