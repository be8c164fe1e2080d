"""Work areas prepared by a forked copy of the runner, on the machine's other core.

Preparing a test (run dir, link, source copy, environment, megatest.sh/.csh, the step files)
is file-system work the runner's loop would otherwise do between launches. A PreparerProcess
is forked once per run, after the run's configs are read, so it holds the same context
(area, configs, caches) without anything being sent; the loop sends it one small request per
test and picks the results up when its pipe is readable. The child is a plain loop: no
database, no scheduling, no signals of its own (Ctrl-C reaches the runner, which closes the
pipe and the child ends). If the child cannot be started or dies, the runner prepares the
tests itself (prepare_work is idempotent), so a broken preparer costs speed, never a test.

Requests and results are length-prefixed pickles between the runner and its own fork.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable
from typing import Any

_HEADER = struct.Struct("!I")
PREPARER_NICENESS = 10

# What the child does with a request: (key, payload) -> result; raising one of `errors`
# sends the error's text back instead.
Work = Callable[[Any], Any]


class PreparationFailed(Exception):
    """The child could not prepare a test; the text is its error's one line."""


class Outcome:
    """A work area on its way: done once its result or its error is set (one thread only,
    so none of concurrent.futures' locking)."""

    __slots__ = ("_done", "_value", "_error")

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        return self._done

    def set_result(self, value: Any) -> None:
        self._value, self._done = value, True

    def set_exception(self, error: BaseException) -> None:
        self._error, self._done = error, True

    def cancel(self) -> None:
        if not self._done:
            self.set_exception(PreparationFailed("cancelled"))

    def result(self) -> Any:
        """The value, or the error raised; only once done."""
        if not self._done:
            raise RuntimeError("the work area is not made yet")
        if self._error is not None:
            raise self._error
        return self._value


class PreparerProcess:
    """One forked worker and the two pipes to it. Requests are answered in order."""

    def __init__(self, pid: int, requests_fd: int, results_fd: int):
        self.pid = pid
        self._requests_fd = requests_fd
        self.results_fd = results_fd  # poll it for POLLIN
        self._out = bytearray()  # requests not yet taken by the pipe
        self._in = bytearray()
        self._pending: list[Any] = []  # keys sent, in order, not yet answered
        self.broken = False

    @classmethod
    def start(cls, work: Work, describe_error: Callable[[BaseException], str | None]) -> PreparerProcess | None:
        """Fork the worker. `work(payload)` runs in the child for each request;
        `describe_error(exc)` gives the text of an expected error (None: a bug, re-raised
        there, which ends the child). Returns None when fork is not possible."""
        if not hasattr(os, "fork"):
            return None
        sys.stdout.flush()  # buffered output must not be written twice
        sys.stderr.flush()
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (req_r, req_w, res_r, res_w):
                os.close(fd)
            return None
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(req_w)
                os.close(res_r)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _lower_priority()
                _serve(req_r, res_w, work, describe_error)
                code = 0
            except BaseException:  # noqa: BLE001 - a bug: said, then the runner takes over
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(code)  # no atexit, no finalizers of the runner's objects
        os.close(req_r)
        os.close(res_w)
        os.set_blocking(req_w, False)
        os.set_blocking(res_r, False)
        return cls(pid, req_w, res_r)

    # -- the runner's side ----------------------------------------------------------------

    @property
    def wants_to_send(self) -> bool:
        """True while requests wait for room in the pipe (poll its fd for POLLOUT)."""
        return bool(self._out)

    @property
    def requests_fd(self) -> int:
        return self._requests_fd

    @property
    def in_flight(self) -> list[Any]:
        return list(self._pending)

    def submit(self, key: Any, payload: Any) -> None:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        self._out += _HEADER.pack(len(data)) + data
        self._pending.append(key)
        self._send()

    def pump(self) -> list[tuple[Any, bool, Any]]:
        """Send what fits, read what is there: [(key, ok, result or error text)] in order.
        Sets `broken` when the child is gone."""
        self._send()
        done: list[tuple[Any, bool, Any]] = []
        while not self.broken:
            try:
                chunk = os.read(self.results_fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                self.broken = True
                break
            if not chunk:
                self.broken = True
                break
            self._in += chunk
        while len(self._in) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._in)
            if len(self._in) < _HEADER.size + size:
                break
            ok, result = pickle.loads(self._in[_HEADER.size:_HEADER.size + size])
            del self._in[:_HEADER.size + size]
            done.append((self._pending.pop(0), ok, result))
        return done

    def close(self) -> None:
        """Close the pipes (the child ends on EOF) and reap it."""
        for fd in (self._requests_fd, self.results_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass

    def _send(self) -> None:
        while self._out and not self.broken:
            try:
                sent = os.write(self._requests_fd, self._out)
            except BlockingIOError:
                return
            except OSError:  # EPIPE: the child is gone
                self.broken = True
                return
            del self._out[:sent]


def _lower_priority() -> None:
    """The runner and the tests' processes come first when the cores are busy: a test start
    (the runner waits while the new process execs) should not queue behind work that is
    only ahead of time. A nice level, not SCHED_IDLE: an idle-class preparer starves while
    the tests keep every core busy, and a launch may be waiting for its work area."""
    try:
        os.nice(PREPARER_NICENESS)
    except OSError:
        pass


def _serve(req_fd: int, res_fd: int, work: Work, describe_error: Callable[[BaseException], str | None]) -> None:
    """The child's loop: read a request, do it, write the answer; end at EOF."""
    buf = bytearray()
    while True:
        while len(buf) < _HEADER.size or len(buf) < _HEADER.size + _HEADER.unpack_from(buf)[0]:
            chunk = os.read(req_fd, 1 << 16)
            if not chunk:
                return
            buf += chunk
        (size,) = _HEADER.unpack_from(buf)
        payload = pickle.loads(buf[_HEADER.size:_HEADER.size + size])
        del buf[:_HEADER.size + size]
        try:
            answer = (True, work(payload))
        except BaseException as exc:  # noqa: BLE001 - sorted by describe_error
            text = describe_error(exc)
            if text is None:
                raise
            answer = (False, text)
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            view = view[os.write(res_fd, view):]
