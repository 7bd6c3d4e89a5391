"""LazyAsyncResult: kazoo's AsyncResult semantics (get/wait/rawlink/unlink/exceptions, blocking
across threads) without allocating a Condition unless somebody blocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kazoo.handlers.threading import AsyncResult, KazooTimeoutError

from dubbomesh.zk.handler import PollHandler
from dubbomesh.zk.result import Inline, LazyAsyncResult


@pytest.fixture
def handler() -> Iterator[PollHandler]:
    h = PollHandler()
    h.start()
    try:
        yield h
    finally:
        h.stop()


def test_is_kazoos_async_result_and_starts_without_a_condition(handler: PollHandler) -> None:
    result = handler.async_result()
    assert isinstance(result, LazyAsyncResult)
    assert isinstance(result, AsyncResult)
    assert result._condition is None
    assert not result.ready()
    assert not result.successful()
    assert result.exception is None


def test_a_value(handler: PollHandler) -> None:
    result = handler.async_result()
    result.set(["a", "b"])
    assert result.ready()
    assert result.successful()
    assert result.exception is None
    assert result.get() == ["a", "b"]
    assert result.get_nowait() == ["a", "b"]
    assert result.wait(0) is True
    assert result._condition is None  # nobody ever had to block


def test_an_exception(handler: PollHandler) -> None:
    result = handler.async_result()
    error = ValueError("nope")
    result.set_exception(error)
    assert result.ready()
    assert not result.successful()
    assert result.exception is error
    with pytest.raises(ValueError, match="nope"):
        result.get()
    with pytest.raises(ValueError, match="nope"):
        result.get_nowait()


def test_not_ready_times_out_like_kazoo(handler: PollHandler) -> None:
    result = handler.async_result()
    with pytest.raises(KazooTimeoutError):
        result.get_nowait()
    with pytest.raises(KazooTimeoutError):
        result.get(block=False)
    with pytest.raises(KazooTimeoutError):
        result.get(timeout=0.001)
    assert result.wait(0.001) is False


@pytest.mark.parametrize("outcome", ["value", "exception"])
def test_a_blocked_getter_is_woken_by_another_thread(handler: PollHandler, outcome: str) -> None:
    result = handler.async_result()
    got: list[object] = []
    blocked = threading.Event()

    def getter() -> None:
        blocked.set()
        try:
            got.append(result.get(timeout=30))
        except RuntimeError as exc:
            got.append(exc)

    thread = threading.Thread(target=getter)
    thread.start()
    assert blocked.wait(30)
    # the getter may or may not be inside wait() yet: both orders must deliver
    if outcome == "value":
        result.set(42)
    else:
        result.set_exception(RuntimeError("gone"))
    thread.join(30)
    assert not thread.is_alive()
    if outcome == "value":
        assert got == [42]
    else:
        assert len(got) == 1
        assert isinstance(got[0], RuntimeError)


def test_waiters_really_block_until_set(handler: PollHandler) -> None:
    result = handler.async_result()
    waiting = threading.Barrier(3)
    woke: list[bool] = []

    def waiter() -> None:
        waiting.wait(30)
        woke.append(result.wait(30))

    threads = [threading.Thread(target=waiter) for _ in range(2)]
    for t in threads:
        t.start()
    waiting.wait(30)
    # poll, with a deadline, until both waiters sit on the (now allocated) condition
    deadline = time.monotonic() + 30
    pause = threading.Event()
    while time.monotonic() < deadline:
        cond = result._condition
        if cond is not None and len(cond._waiters) == 2:  # type: ignore[attr-defined]
            break
        pause.wait(0.005)
    assert result._condition is not None
    assert woke == []
    result.set("v")
    for t in threads:
        t.join(30)
    assert woke == [True, True]


def test_rawlink_before_and_after_set_calls_each_callback_once(handler: PollHandler) -> None:
    result = handler.async_result()
    seen: list[tuple[str, Any]] = []
    early = Inline(lambda r: seen.append(("early", r.get())))
    result.rawlink(early)
    result.rawlink(early)  # linked twice: still called once, as kazoo does
    result.set("v")
    assert seen == [("early", "v")]
    result.rawlink(Inline(lambda r: seen.append(("late", r.get()))))
    assert seen == [("early", "v"), ("late", "v")]
    result.set("again")  # kazoo never sets twice; if it did, callbacks are not replayed
    assert seen == [("early", "v"), ("late", "v")]


def test_unlink_forgets_a_callback(handler: PollHandler) -> None:
    result = handler.async_result()
    seen: list[str] = []
    callback = Inline(lambda _: seen.append("called"))
    result.rawlink(callback)
    result.unlink(callback)
    result.unlink(callback)  # unknown: ignored
    result.set(None)
    assert seen == []


def test_plain_callbacks_go_through_kazoos_completion_worker(handler: PollHandler) -> None:
    result = handler.async_result()
    ran = threading.Event()
    where: list[int] = []

    def callback(r: LazyAsyncResult) -> None:
        where.append(threading.get_ident())
        ran.set()

    result.rawlink(callback)
    result.set(1)
    assert ran.wait(30)
    assert where != [threading.get_ident()]


def test_with_the_handler_stopped_callbacks_run_at_once() -> None:
    stopped = PollHandler()
    result = stopped.async_result()
    seen: list[object] = []
    result.rawlink(lambda r: seen.append(r.get()))
    result.set("now")
    assert seen == ["now"]


def test_a_callback_may_use_its_result(handler: PollHandler) -> None:
    result = handler.async_result()
    seen: list[object] = []

    def relink(r: LazyAsyncResult) -> None:
        seen.append(r.get(timeout=1))  # kazoo would run this under its lock; ours is released
        r.rawlink(Inline(lambda again: seen.append(("nested", again.value))))

    result.rawlink(Inline(relink))
    result.set("x")
    assert seen == ["x", ("nested", "x")]


def test_a_callback_given_at_creation_is_linked(handler: PollHandler) -> None:
    seen: list[object] = []
    callback = Inline(lambda r: seen.append(r.get()))
    result = LazyAsyncResult(handler, callback)
    result.rawlink(callback)  # already linked: still once
    assert seen == []
    result.set("v")
    assert seen == ["v"]
    failed = LazyAsyncResult(handler, Inline(lambda r: seen.append(type(r.exception))))
    failed.set_exception(KeyError("k"))
    assert seen == ["v", KeyError]
