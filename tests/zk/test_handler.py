"""The poll-based select of the kazoo handler answers like kazoo's own selector_select."""

from __future__ import annotations

import socket

import pytest
from kazoo.handlers.utils import selector_select

from dubbomesh.zk.handler import poll_select


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
