"""The kazoo handler: poll-based select answers like kazoo's own selector_select; Inline
callbacks run without a thread hop, every other callback still goes through kazoo's workers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
from kazoo.handlers.utils import selector_select
from kazoo.protocol.states import Callback

from dubbomesh.zk.handler import Inline, PollHandler, poll_select


def test_readiness_matches_kazoo() -> None:
    a, b = socket.socketpair()
    try:
        for rlist, wlist in (([a], []), ([], [a]), ([a], [a]), ([a, b], [b])):
            assert poll_select(rlist, wlist, [], 0) == selector_select(rlist, wlist, [], 0)
        b.send(b"x")
        for rlist, wlist in (([a], []), ([a], [a]), ([a, b], [a, b])):
            assert poll_select(rlist, wlist, [], 0) == selector_select(rlist, wlist, [], 0)
        assert poll_select([a], [], [], 0)[0] == [a]  # readable wins over writable
        a.recv(1)
        b.close()  # hang-up: readable (the read returns EOF), as selectors reports it
        assert poll_select([a], [], [], 0) == selector_select([a], [], [], 0) == ([a], [], [])
    finally:
        a.close()


def test_short_paths_match_kazoo_as_sets() -> None:
    # kazoo asks for "readable" or "writable" on one or two sockets: the short paths
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    try:

        def same(rlist: list[socket.socket], wlist: list[socket.socket]) -> None:
            ours = poll_select(rlist, wlist, [], 0)
            theirs = selector_select(rlist, wlist, [], 0)
            assert [set(x) for x in ours] == [set(x) for x in theirs]

        same([a, c], [])
        same([], [a, c])
        b.send(b"x")
        same([a, c], [])
        same([c, a], [])
        d.send(b"y")
        same([a, c], [])
        assert poll_select([a, a], [], [], 0) == ([a, a], [], [])  # as listed, twice
        assert poll_select([a.fileno()], [], [], 0) == ([a.fileno()], [], [])  # plain fds too
        closed = socket.socket()
        closed.close()
        for bad in (object(), closed):
            with pytest.raises(TypeError):  # as kazoo's fileobj_to_fd says it
                poll_select([bad], [], [], 0)
    finally:
        for s in (a, b, c, d):
            s.close()


def test_nothing_ready_before_the_timeout() -> None:
    a, b = socket.socketpair()
    try:
        assert poll_select([a], [], [], 0.01) == ([], [], [])
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(("timeout", "error"), [(-1, ValueError), ("1", TypeError)])
def test_bad_timeouts_are_refused_like_kazoo(timeout: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        poll_select([], [], [], timeout)  # type: ignore[arg-type]
    with pytest.raises(error):
        selector_select([], [], [], timeout)


def test_inline_callbacks_skip_the_worker_threads_others_do_not() -> None:
    handler = PollHandler()
    handler.start()
    try:
        here = threading.get_ident()
        seen: dict[str, int] = {}
        done = threading.Event()

        def record(name: str) -> Callable[..., None]:
            def callback(*_: object) -> None:
                seen[name] = threading.get_ident()
                done.set()

            return callback

        handler.dispatch_callback(Callback("watch", Inline(record("watch")), ("event",)))
        assert seen == {"watch": here}
        result = handler.async_result()
        result.rawlink(Inline(record("completion")))
        result.set("value")
        assert seen["completion"] == here
        plain = handler.async_result()
        plain.rawlink(record("plain"))
        plain.set("value")
        assert done.wait(5)
        deadline = time.monotonic() + 5
        while "plain" not in seen and time.monotonic() < deadline:
            done.clear()
            done.wait(0.05)
        assert seen["plain"] != here  # kazoo's completion worker ran it
    finally:
        handler.stop()


def test_a_failing_inline_callback_does_not_escape() -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    Inline(boom)("event")  # logged, not raised: it must never kill kazoo's connection thread
