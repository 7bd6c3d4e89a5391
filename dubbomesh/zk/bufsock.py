"""A plain TCP socket that reads ahead: one ``recv`` serves many ZooKeeper replies.

Why this module exists: kazoo reads each reply as a 4-byte length then the body, and before each
of those ``recv`` calls it asks the handler whether the socket is readable: four system calls and
their Python per reply, about a fifth of the connection thread's time in a 20,000-directory
listing whose replies arrive back to back. kazoo already skips the readiness question when the
socket says it has ``pending()`` bytes (it needs that for TLS, whose records hold more than one
read's worth); this socket reads up to 64 KiB at a time and reports what it holds as pending, so
most replies are sliced out of memory. :class:`dubbomesh.zk.handler.PollHandler` creates it for
plain connections (TLS sockets stay as they are) and reports it readable while it holds bytes,
so nothing buffered waits for the network.
"""

from __future__ import annotations

import socket
from typing import Any

READ_AHEAD = 65536
"""Bytes asked of the kernel per read."""


class BufferedSocket:
    """Wraps a connected socket: :meth:`recv` and :meth:`pending` read ahead, everything else
    is the socket's own."""

    __slots__ = ("_buf", "_pos", "send", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.send = sock.send
        """The socket's own (bound here: kazoo sends once per request)."""
        self._buf = b""
        self._pos = 0

    def pending(self) -> int:
        """Bytes already read from the kernel and not yet returned by :meth:`recv`."""
        return len(self._buf) - self._pos

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes: buffered ones first (never more than are buffered), else one read
        of up to :data:`READ_AHEAD` bytes from the socket (b"" at end of stream)."""
        buf, pos = self._buf, self._pos
        if pos < len(buf):
            end = pos + size
            if end >= len(buf):
                self._buf, self._pos = b"", 0
                return buf[pos:] if pos else buf
            self._pos = end
            return buf[pos:end]
        data = self.sock.recv(max(size, READ_AHEAD))
        if len(data) <= size:
            return data
        self._buf, self._pos = data, size
        return data[:size]

    def fileno(self) -> int:
        """The socket's descriptor."""
        return self.sock.fileno()

    def close(self) -> None:
        """Close the socket and drop what was read ahead."""
        self._buf, self._pos = b"", 0
        self.sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)

    def __repr__(self) -> str:
        return f"BufferedSocket({self.sock!r}, pending={self.pending()})"
