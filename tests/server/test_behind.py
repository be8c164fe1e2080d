"""Write-behind: calls return at once, what queues while a batch is on its way goes as one
batch, a refused call loses only its own writes and says so at the next flush."""

from __future__ import annotations

import threading

import pytest

from megatest.errors import StoreWriteError, UsageError
from megatest.server.behind import WriteBehind


class FakeSend:
    """Records batches; holds the first one until `release` is set."""

    def __init__(self, refuse: str | None = None, crash: bool = False) -> None:
        self.batches: list[list[dict]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.refuse, self.crash = refuse, crash

    def __call__(self, writes: list[dict]) -> None:
        self.started.set()
        assert self.release.wait(30), "the test never released the first batch"
        if self.crash:
            raise KeyError("boom")
        if self.refuse and any(w["name"] == self.refuse for w in writes):
            raise UsageError(f"run 1 has no test {self.refuse}")
        self.batches.append(writes)


def _w(name: str) -> dict:
    return {"name": name}


def test_calls_made_while_a_batch_is_on_its_way_go_as_the_next_batch():
    send = FakeSend()
    behind = WriteBehind(send)
    behind.put([_w("a")])
    assert send.started.wait(30)
    for name in "bcd":
        behind.put([_w(name)])  # returns at once: the first batch is still held
    send.release.set()
    behind.close()
    assert send.batches == [[_w("a")], [_w("b"), _w("c"), _w("d")]]


def test_a_refused_call_loses_only_its_own_writes_and_its_error_comes_at_flush():
    send = FakeSend(refuse="bad")
    behind = WriteBehind(send)
    behind.put([_w("a")])
    assert send.started.wait(30)
    behind.put([_w("b")])
    behind.put([_w("bad")])
    behind.put([_w("c")])
    send.release.set()
    with pytest.raises(UsageError, match="no test bad"):
        behind.flush()
    behind.put([_w("d")])  # the error was said once; the writer goes on
    behind.close()
    assert [w["name"] for batch in send.batches for w in batch] == ["a", "b", "c", "d"]


def test_a_full_queue_makes_the_caller_wait_for_room():
    send = FakeSend()
    behind = WriteBehind(send, limit=2)
    behind.put([_w("a")])
    assert send.started.wait(30)
    behind.put([_w("b"), _w("c")])  # the queue is full now
    third = threading.Thread(target=behind.put, args=([_w("d")],))
    third.start()
    third.join(0.05)
    assert third.is_alive()  # waits while the first batch is held
    send.release.set()
    third.join(30)
    behind.close()
    assert [w["name"] for batch in send.batches for w in batch] == ["a", "b", "c", "d"]


def test_a_crash_in_the_sending_thread_is_an_error_at_flush_not_a_hang():
    send = FakeSend(crash=True)
    send.release.set()
    behind = WriteBehind(send)
    behind.put([_w("a")])
    with pytest.raises(StoreWriteError, match="KeyError"):
        behind.flush()
    behind.close()
    with pytest.raises(UsageError, match="closed"):
        behind.put([_w("b")])
