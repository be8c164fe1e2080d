"""A tiny progress bar on stderr for long store operations (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`Progress(total, "converting runs")`; call advance() per unit and done() at the end.
    Draws only when enabled (the caller decides: stderr is a tty, or --progress), at most
    ten times a second."""

    def __init__(self, total: int, label: str, *, enabled: bool = True,
                 stream: TextIO | None = None, width: int = 30):
        self.total = max(total, 0)
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.width = width
        self.count = 0
        self._last = 0.0
        self._drawn = -1
        self._start = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and (now - self._last >= 0.1 or self.count >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        self._drawn = self.count
        frac = self.count / self.total if self.total else 1.0
        filled = int(self.width * min(frac, 1.0))
        elapsed = now - self._start
        eta = (elapsed / frac - elapsed) if 0 < frac < 1 else 0.0
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{self.count}/{self.total} {frac:4.0%} eta {eta:4.0f}s"
        )
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            if self._drawn != self.count:
                self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
