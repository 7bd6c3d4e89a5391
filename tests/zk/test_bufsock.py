"""The read-ahead socket: replies come out byte-exact whatever the read sizes, buffered bytes are
reported as pending (kazoo then skips its readiness check) and as readable by the handler's
select, so nothing read ahead waits for the network; only plain TCP sockets are wrapped."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from kazoo.handlers.threading import SequentialThreadingHandler

from dubbomesh.zk.bufsock import READ_AHEAD, BufferedSocket
from dubbomesh.zk.handler import PollHandler


@pytest.fixture
def pair() -> Iterator[tuple[BufferedSocket, socket.socket]]:
    a, b = socket.socketpair()
    try:
        yield BufferedSocket(a), b
    finally:
        a.close()
        b.close()


def test_many_replies_from_one_read(pair: tuple[BufferedSocket, socket.socket]) -> None:
    ours, peer = pair
    bodies = [bytes([i]) * (i * 7 + 1) for i in range(50)]
    peer.sendall(b"".join(struct.pack("!i", len(b)) + b for b in bodies))
    got = []
    for _ in bodies:
        (length,) = struct.unpack("!i", ours.recv(4))
        body = b""
        while len(body) < length:
            body += ours.recv(length - len(body))
        got.append(body)
    assert got == bodies
    assert ours.pending() == 0


def test_never_returns_more_than_buffered_or_asked(
    pair: tuple[BufferedSocket, socket.socket],
) -> None:
    ours, peer = pair
    peer.sendall(b"abcdef")
    assert ours.recv(2) == b"ab"
    assert ours.pending() == 4
    assert ours.recv(10) == b"cdef"  # a short read, like a socket's; no blocking for more
    assert ours.pending() == 0
    peer.sendall(b"xyz")
    assert ours.recv(3) == b"xyz"  # exactly what was there: nothing kept
    assert ours.pending() == 0


def test_large_reads_and_end_of_stream(pair: tuple[BufferedSocket, socket.socket]) -> None:
    ours, peer = pair
    blob = bytes(range(256)) * (3 * READ_AHEAD // 256)
    peer.sendall(blob[: READ_AHEAD // 2])
    assert ours.recv(READ_AHEAD * 2) == blob[: READ_AHEAD // 2]
    peer.close()
    assert ours.recv(4) == b""  # end of stream, as kazoo expects it


def test_the_rest_is_the_sockets_own(pair: tuple[BufferedSocket, socket.socket]) -> None:
    ours, peer = pair
    assert ours.fileno() == ours.sock.fileno()
    ours.setblocking(False)
    assert ours.getblocking() is False
    assert ours.send(b"hi") == 2
    assert peer.recv(2) == b"hi"
    peer.sendall(b"12345")
    assert ours.recv(1) == b"1"
    ours.close()
    assert ours.pending() == 0
    assert ours.sock.fileno() == -1


def test_select_reports_buffered_bytes_without_waiting(
    pair: tuple[BufferedSocket, socket.socket],
) -> None:
    ours, peer = pair
    handler = PollHandler()
    wake_r, wake_w = socket.socketpair()
    try:
        assert handler.select([ours, wake_r], [], [], 0) == ([], [], [])
        peer.sendall(b"0123")
        assert handler.select([ours, wake_r], [], [], 5) == ([ours], [], [])
        ours.recv(1)  # the kernel is now empty, three bytes are buffered
        assert ours.pending() == 3
        assert handler.select([ours], [], [], None) == ([ours], [], [])
        # buffered replies must not hide a request waiting to be sent
        wake_w.send(b"\0")
        assert handler.select([ours, wake_r], [], [], None) == ([ours, wake_r], [], [])
        assert handler.select([ours], [ours], [], None) == ([ours], [ours], [])
        ours.recv(3)
        assert handler.select([ours, wake_r], [], [], 0) == ([wake_r], [], [])
    finally:
        wake_r.close()
        wake_w.close()


def test_only_plain_tcp_sockets_are_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []

    def fake_create(self: object, *args: object, **kwargs: object) -> Any:
        return made.pop()

    monkeypatch.setattr(SequentialThreadingHandler, "create_connection", fake_create)
    handler = PollHandler()
    plain = socket.socket()
    try:
        made.append(plain)
        wrapped = handler.create_connection(address=("127.0.0.1", 1))
        assert isinstance(wrapped, BufferedSocket)
        assert wrapped.sock is plain
        tls_like = object()  # an ssl.SSLSocket is not exactly socket.socket: left alone
        made.append(tls_like)
        assert handler.create_connection(address=("127.0.0.1", 1), use_ssl=True) is tls_like
    finally:
        plain.close()
