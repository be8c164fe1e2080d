"""The forked work-area preparer: answers in order, errors as text, a dead child noticed."""

from __future__ import annotations

import os
import select

from megatest.engine.preparer import PreparerProcess
from megatest.errors import ConfigError


def _describe(exc: BaseException) -> str | None:
    return exc.one_line() if isinstance(exc, ConfigError) else None


def _work(payload):
    kind, value = payload
    if kind == "fail":
        raise ConfigError("cannot do it", path=value)
    if kind == "die":
        os._exit(3)
    if kind == "big":
        return "x" * value
    return value * 2, os.getpid()


SAFETY_MS = 30_000  # only turns a hang into a failure: the child normally answers at once


def _collect(prep: PreparerProcess, count: int) -> list:
    """Pump until `count` answers came back or the child is gone, waiting on its pipes."""
    got: list = []
    while len(got) < count and not prep.broken:
        poller = select.poll()
        poller.register(prep.results_fd, select.POLLIN)
        if prep.wants_to_send:
            poller.register(prep.requests_fd, select.POLLOUT)
        if not poller.poll(SAFETY_MS):
            raise AssertionError(f"the preparer did nothing for {SAFETY_MS // 1000} s; "
                                 f"{len(got)} of {count} answers")
        got += prep.pump()
    return got


def test_answers_come_back_in_order_from_another_process():
    prep = PreparerProcess.start(_work, _describe)
    assert prep is not None
    try:
        for i in range(300):
            prep.submit(("key", i), ("num", i))
        got = _collect(prep, 300)
        assert [key for key, _, _ in got] == [("key", i) for i in range(300)]
        assert all(ok for _, ok, _ in got)
        assert [result[0] for _, _, result in got] == [2 * i for i in range(300)]
        assert {result[1] for _, _, result in got} == {prep.pid} != {os.getpid()}
    finally:
        prep.close()


def test_big_answers_and_many_requests_do_not_deadlock_the_pipes():
    # answers far bigger than a pipe buffer while requests keep coming
    prep = PreparerProcess.start(_work, _describe)
    try:
        for i in range(60):
            prep.submit(i, ("big", 200_000))
        got = _collect(prep, 60)
        assert len(got) == 60 and all(len(result) == 200_000 for _, _, result in got)
    finally:
        prep.close()


def test_an_expected_error_comes_back_as_its_line_and_the_child_goes_on():
    prep = PreparerProcess.start(_work, _describe)
    try:
        prep.submit("a", ("fail", "tests/x/testconfig"))
        prep.submit("b", ("num", 4))
        got = _collect(prep, 2)
        assert got[0] == ("a", False, "tests/x/testconfig: cannot do it")
        assert got[1][:2] == ("b", True) and got[1][2][0] == 8
    finally:
        prep.close()


def test_a_dead_child_is_noticed_with_what_it_had_not_answered():
    prep = PreparerProcess.start(_work, _describe)
    try:
        prep.submit("first", ("num", 1))
        prep.submit("dies", ("die", 0))
        prep.submit("lost", ("num", 2))
        got = _collect(prep, 3)
        assert [key for key, _, _ in got] == ["first"]
        assert prep.broken
        assert prep.in_flight == ["dies", "lost"]
    finally:
        prep.close()
