"""Handing the lister's reads to kazoo in batches, past its per-call checks and wake-ups.

Why this module exists: in a first listing the event loop issues 20,000 reads, and for each one
kazoo's public ``get_children_async`` checks its arguments, normalises the path (its ``normpath``
is ~60% of that Python) and writes one byte to its connection thread's wake-up pipe: a system
call that also lets the connection thread take the GIL once per request. For a path that is
already absolute and normal, with no chroot, what kazoo does after its checks is: queue
``(request, result)`` and write one wake-up byte per queued request (the connection thread sends
one request per byte it reads). :class:`Submitter` does exactly that for a whole pump's worth of
reads at once: one ``extend`` and one write of N bytes.

kazoo internals used (``KazooClient._state``/``_queue``/``_call``/``chroot``,
``ConnectionHandler._write_sock``): pinned by tests/zk/test_lister_direct.py against a real
server. A client without them (a test fake, another kazoo) gets the public calls instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kazoo.exceptions import ConnectionClosedError
from kazoo.protocol.states import KeeperState

from dubbomesh.zk.handler import PollHandler
from dubbomesh.zk.result import LazyAsyncResult

_REFUSING = frozenset({KeeperState.AUTH_FAILED, KeeperState.CLOSED, KeeperState.EXPIRED_SESSION})
"""States in which kazoo's _call fails a request instead of queueing it."""


def supports_direct(client: Any) -> bool:
    """True when ``client`` is a kazoo client this module knows how to feed."""
    connection = getattr(client, "_connection", None)
    return (
        getattr(client, "chroot", None) == ""
        and callable(getattr(client, "_call", None))
        and hasattr(client, "_queue")
        and hasattr(client, "_state")
        and hasattr(connection, "_write_sock")
        and isinstance(getattr(client, "handler", None), PollHandler)
    )


def is_normal(path: str) -> bool:
    """True when kazoo's path normalisation would leave ``path`` as it is (a conservative test:
    ``/.`` also rejects names merely starting with a dot, which then take the public call)."""
    return path[:1] == "/" and "//" not in path and "/." not in path and path[-1] != "/"


class Submitter:
    """Collects (request, result) pairs from the event loop; :meth:`flush` hands them over."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._handler = client.handler
        self._batch: list[tuple[Any, LazyAsyncResult]] = []

    def add(self, request: Any, callback: Callable[[Any], None]) -> None:
        """Queue ``request``; ``callback(result)`` runs when kazoo answers it."""
        self._batch.append((request, LazyAsyncResult(self._handler, callback)))

    def flush(self) -> None:
        """Hand every collected request to kazoo's connection thread."""
        batch = self._batch
        if not batch:
            return
        self._batch = []
        client = self._client
        if len(batch) == 1 or client._state in _REFUSING:
            for request, result in batch:  # kazoo's own call: its checks, its errors
                client._call(request, result)
            return
        client._queue.extend(batch)
        try:
            client._connection._write_sock.sendall(b"\0" * len(batch))
        except Exception:  # closed under us (None, or a closed socket), as kazoo's _call says it
            for _, result in batch:
                result.set_exception(ConnectionClosedError("Connection has been closed"))
