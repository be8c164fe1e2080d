"""The progress display: one line per change off a TTY, nothing when quiet, a block on a TTY."""

from __future__ import annotations

import io

from megatest.engine.progress import Progress


def test_pipe_gets_one_line_per_change_with_failure_reason():
    out = io.StringIO()
    p = Progress("run", out, tty=False)
    p.change("a", "LAUNCHED", "n/a")
    p.change("a", "LAUNCHED", "n/a")  # no change, no line
    p.change("a", "COMPLETED", "PASS")
    p.change("b", "NOT_STARTED", "PREQ_FAIL", "waiton a ended COMPLETED/FAIL")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[1].endswith("a                              COMPLETED/PASS")
    assert "PREQ_FAIL  waiton a ended COMPLETED/FAIL" in lines[2]
    assert p.counts() == {"PASS": 1, "PREQ_FAIL": 1}


def test_quiet_prints_only_the_summary():
    out = io.StringIO()
    p = Progress("run", out, quiet=True, tty=True)
    p.change("a", "COMPLETED", "FAIL")
    p.finish("done")
    assert out.getvalue() == "done\n"


def test_tty_redraws_a_block_and_keeps_failures_above_it():
    out = io.StringIO()
    p = Progress("run r", out, tty=True, refresh=0)
    p.change("a", "RUNNING", "n/a")
    p.change("b", "COMPLETED", "FAIL")
    text = out.getvalue()
    assert "running a" in text
    assert "\x1b[" in text  # the block was erased and redrawn
    assert "b" in text and "COMPLETED/FAIL" in text


class _ReaderGone(io.StringIO):
    """A stream whose reader went away after `lines` writes (`runs start | head`)."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        if self.left <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.left -= 1
        return super().write(text)


def test_a_reader_that_goes_away_ends_the_display_not_the_run():
    out = _ReaderGone(1)
    p = Progress("run", out, tty=False)
    p.change("a", "RUNNING", "n/a")
    p.change("b", "RUNNING", "n/a")  # the pipe is gone: no error, nothing more written
    p.change("a", "COMPLETED", "FAIL")
    p.finish("summary")
    assert out.getvalue().count("\n") == 1 and p.closed
