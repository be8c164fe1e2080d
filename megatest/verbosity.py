"""How much a command says: the original's `-debug N` and `-debug N,M,...`.

`-debug N` shows every detail of level N and below; `-debug N,M` shows only the levels listed.
The level travels in MT_DEBUG_MODE, so the test helpers a run's tests call say as much as the
run that started them (the original did the same). Level 1 is the normal output; details are
printed at 2 and above, on stderr, as `INFO: (N) ...` lines like the original's.

Standard library only: the console entry and the test helpers import this module.
"""

from __future__ import annotations

import os
import sys

from megatest.errors import UsageError

ENV = "MT_DEBUG_MODE"
DEFAULT = 1


class Verbosity:
    """A parsed `-debug` value: a level (N and below) or a set of levels (only those)."""

    __slots__ = ("level", "levels")

    def __init__(self, level: int | None = DEFAULT, levels: frozenset[int] = frozenset()):
        self.level = level
        self.levels = levels

    def shows(self, n: int) -> bool:
        return n in self.levels if self.level is None else n <= self.level

    def spec(self) -> str:
        """The value as `-debug` takes it (and MT_DEBUG_MODE holds it)."""
        if self.level is not None:
            return str(self.level)
        return ",".join(str(n) for n in sorted(self.levels))


def parse_spec(text: str, *, what: str = "-debug") -> Verbosity:
    """`N` or `N,M,...` (non-negative integers); anything else is a UsageError."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or not all(p.isdigit() for p in parts):
        raise UsageError(f"{what} {text!r}: give a level N or a list of levels N,M,... (e.g. 2 or 0,3)")
    numbers = [int(p) for p in parts]
    if len(numbers) == 1:
        return Verbosity(numbers[0])
    return Verbosity(None, frozenset(numbers))


_current: Verbosity | None = None


def current() -> Verbosity:
    """The process's verbosity, from MT_DEBUG_MODE. A value that is not a level (set by hand)
    counts as the default, as in the original: a test helper must not fail over it."""
    global _current
    if _current is None:
        try:
            _current = parse_spec(os.environ.get(ENV, str(DEFAULT)))
        except UsageError:
            _current = Verbosity()
    return _current


def set_current(verbosity: Verbosity) -> None:
    """Use `verbosity` here and in every process started from here (tests, hooks)."""
    global _current
    _current = verbosity
    os.environ[ENV] = verbosity.spec()


def shows(n: int) -> bool:
    return current().shows(n)


def detail(n: int, message: str) -> None:
    """Say `message` on stderr when level `n` is shown."""
    if current().shows(n):
        print(f"INFO: ({n}) {message}", file=sys.stderr, flush=True)
