"""What a user sees while a run goes on.

* TTY: a status block redrawn in place (counts by state/status, what runs now), with
  failures printed above it as they happen, so they stay on screen;
* not a TTY (CI logs, pipes): one line per state change;
* quiet: nothing but the final line (scripts read the exit status).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

from megatest.engine.run_events import RunEnd, RunListener, TestChange

GOOD = frozenset({"PASS", "WARN", "WAIVED", "SKIP"})


def label(state: str, status: str) -> str:
    """How a row reads in a count: the status once it ended, the state while it runs."""
    if state == "COMPLETED" or (state == "NOT_STARTED" and status not in ("n/a", "")):
        return status
    return state


class Progress(RunListener):
    """The display of one run: a listener of its events."""

    def __init__(
        self,
        title: str,
        stream: TextIO | None = None,
        *,
        quiet: bool = False,
        tty: bool | None = None,
        refresh: float = 0.2,
    ) -> None:
        self.stream = stream or sys.stdout
        self.title = title
        self.quiet = quiet
        self.tty = self.stream.isatty() if tty is None else tty
        self.refresh = refresh
        self.closed = False  # the reader went away
        self.rows: dict[str, tuple[str, str]] = {}
        # kept as rows change: a redraw costs the same with 100 tests or 100,000
        self._counts: Counter[str] = Counter()
        self._running_since: dict[str, float] = {}
        self._drawn = 0
        self._last_draw = 0.0
        self.started = time.monotonic()

    # -- as a run listener ---------------------------------------------------------------------

    def test_changed(self, change: TestChange) -> None:
        if not self.quiet:
            self.change(change.test.full_name, change.state, change.status, change.comment or "")

    def turn(self) -> None:
        self.draw()

    def run_ended(self, end: RunEnd) -> None:
        if not self.quiet:
            self.finish("\n".join(end.outcome.lines(f"{end.target}/{end.runname}")))

    # -- drawing ------------------------------------------------------------------------------

    def change(self, name: str, state: str, status: str, comment: str = "") -> None:
        """A test or item changed state (name = full name). Quiet keeps nothing: only the
        final line is printed, from the run's own counts."""
        if self.quiet:
            return
        old = self.rows.get(name)
        if old == (state, status):
            return
        if old is not None:
            self._counts[label(*old)] -= 1
        self._counts[label(state, status)] += 1
        self.rows[name] = (state, status)
        if state in ("LAUNCHED", "RUNNING", "REMOTEHOSTSTART"):
            self._running_since.setdefault(name, time.monotonic())
        else:
            self._running_since.pop(name, None)
        line = _line(name, state, status, comment)
        if not self.tty:
            self._write(line + "\n")
            return
        if _bad(state, status):
            self._clear()
            self._write(line + "\n", flush=False)
            self._drawn = 0
        self.draw()

    def draw(self, force: bool = False) -> None:
        if self.quiet or not self.tty:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.refresh:
            return
        self._last_draw = now
        self._clear()
        lines = self._block(now)
        self._write("\n".join(lines) + "\n")
        self._drawn = len(lines)

    def finish(self, summary: str) -> None:
        if self.tty and not self.quiet:
            self.draw(force=True)
        self._write(summary + "\n")

    def _write(self, text: str, flush: bool = True) -> None:
        """Out to the stream; a reader that went away (`runs start | head`) ends the display,
        never the run: from then on it is quiet."""
        if self.closed:
            return
        try:
            self.stream.write(text)
            if flush:
                self.stream.flush()
        except BrokenPipeError:
            self.closed = self.quiet = True

    def counts(self) -> Counter[str]:
        return +self._counts  # the labels no row has any more left out

    def _block(self, now: float) -> list[str]:
        counts = self.counts()
        elapsed = now - self.started
        head = f"{self.title}  {elapsed:6.1f}s  " + "  ".join(
            f"{k} {v}" for k, v in sorted(counts.items())
        )
        # what runs is bounded by the run's job limits, not by the number of its tests
        running = sorted(self._running_since.items(), key=lambda kv: kv[1])
        lines = [head]
        for name, since in running[:8]:
            lines.append(f"  running {name}  {now - since:5.1f}s")
        if len(running) > 8:
            lines.append(f"  ... and {len(running) - 8} more running")
        return lines

    def _clear(self) -> None:
        if self._drawn:
            # cursor up over the old block and erase to the end of the screen
            self._write(f"\x1b[{self._drawn}F\x1b[J", flush=False)
            self._drawn = 0


def _bad(state: str, status: str) -> bool:
    if state == "COMPLETED":
        return status not in GOOD
    return state in ("KILLED", "INCOMPLETE") or (
        state == "NOT_STARTED" and status not in ("n/a", "")
    )


def _line(name: str, state: str, status: str, comment: str) -> str:
    stamp = time.strftime("%H:%M:%S")
    text = f"{stamp} {name:<30} {state}/{status}"
    return f"{text}  {comment}" if comment and _bad(state, status) else text
