"""Pipelined reads: many getChildren/getData requests in flight on one connection, with a window.

Why this module exists: listing 10,000 interface directories one round trip at a time takes
minutes; issuing them all at once floods memory. The lister keeps up to ``window`` reads in flight
(kazoo pipelines them on its single socket), never reads the same path twice at once (a request for
a path already in flight marks it dirty and it is read again when the answer lands, so no change
can slip between a read and its watch), and falls back to an ``exists`` watch for nodes that do not
exist yet. Completions only enqueue ``Done`` values into the inbox; interpretation is the
watcher's job, on the event loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kazoo.client import KazooClient
from kazoo.protocol.serialization import GetData
from kazoo.protocol.states import WatchedEvent

from dubbomesh.zk.handler import Inline
from dubbomesh.zk.inbox import Inbox
from dubbomesh.zk.paths import Node
from dubbomesh.zk.submit import Submitter, is_normal, supports_direct
from dubbomesh.zk.wire import ListChildren

InboxItem = object
"""What the inbox carries: ``Done``, kazoo ``WatchedEvent``, state strings and timer ticks."""


class Done(Inline):
    """A kazoo async result for ``node`` (``probe``: it answers the ``exists`` fallback).

    It is its own completion callback: kazoo calls it with the result (on its connection thread,
    being :class:`Inline`) and it only enqueues itself, one object per read instead of a closure,
    its Inline wrapper and then this.
    """

    __slots__ = ("_inbox", "epoch", "node", "probe", "result")

    def __init__(self, node: Node, epoch: int, inbox: Inbox[InboxItem], probe: bool = False):
        self.node = node
        self.epoch = epoch
        self.probe = probe
        self.result: Any = None
        self._inbox = inbox

    def run(self, *args: Any) -> None:
        self.result = args[0]
        self._inbox.put(self)

    def __repr__(self) -> str:
        return f"Done({self.node!r}, epoch={self.epoch}, probe={self.probe})"


@dataclass(slots=True)
class _Flight:
    node: Node
    full: bool
    epoch: int
    dirty: bool = False
    dirty_full: bool = False


class Lister:
    """Issues reads for the watcher task. Call only from the event loop."""

    def __init__(self, client: KazooClient, inbox: Inbox[InboxItem], window: int) -> None:
        self._client = client
        self._inbox = inbox
        self._window = window
        self._queue: deque[Node] = deque()
        self._queued: dict[str, bool] = {}
        self._inflight: dict[str, _Flight] = {}
        self.epoch = 0
        """Incremented on each new connection; a failure of an older epoch is stale."""
        self.reads = 0
        """Reads issued so far (including ``exists`` probes)."""
        # One watcher object for every path: kazoo keeps watchers in sets, so re-reading a path
        # never stacks duplicate callbacks. Inline: it only enqueues, so kazoo may call it from
        # its connection thread (no hop through a worker thread; see dubbomesh.zk.handler).
        self._watch: Callable[[WatchedEvent], None] = Inline(inbox.put)
        self._submit = Submitter(client) if supports_direct(client) else None
        """Reads of normal paths skip kazoo's per-call checks and wake-ups (dubbomesh.zk.submit)."""

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing awaiting an answer."""
        return not self._queue and not self._inflight

    @property
    def in_flight_count(self) -> int:
        """Reads awaiting an answer."""
        return len(self._inflight)

    def request(self, node: Node, full: bool) -> None:
        """Read ``node`` (again); ``full``: re-read all of its children too."""
        flight = self._inflight.get(node.path)
        if flight is not None:
            flight.dirty = True
            flight.dirty_full = flight.dirty_full or full
            return
        if node.path in self._queued:
            self._queued[node.path] = self._queued[node.path] or full
            return
        self._queued[node.path] = full
        self._queue.append(node)

    def pump(self) -> None:
        """Issue queued reads while the window has room."""
        while self._queue and len(self._inflight) < self._window:
            node = self._queue.popleft()
            full = self._queued.pop(node.path)
            self._inflight[node.path] = _Flight(node, full, self.epoch)
            self._issue(node, self.epoch)
        if self._submit is not None:
            self._submit.flush()

    def _issue(self, node: Node, epoch: int) -> None:
        # the caller flushes self._submit
        self.reads += 1
        path, client, done = node.path, self._client, Done(node, epoch, self._inbox)
        if self._submit is not None and is_normal(path):
            request = ListChildren if node.kind.lists_children else GetData
            self._submit.add(request(path, self._watch), done)
        elif node.kind.lists_children:
            client.get_children_async(path, watch=self._watch).rawlink(done)
        else:
            client.get_async(path, watch=self._watch).rawlink(done)

    def probe(self, node: Node) -> None:
        """``node`` did not exist: leave an ``exists`` watch to learn when it appears."""
        self.reads += 1
        epoch = self._inflight[node.path].epoch
        res = self._client.exists_async(node.path, watch=self._watch)
        res.rawlink(Done(node, epoch, self._inbox, probe=True))

    def reissue(self, node: Node) -> None:
        """Read an in-flight node again (it appeared between the read and the probe)."""
        self._issue(node, self._inflight[node.path].epoch)
        if self._submit is not None:
            self._submit.flush()

    def finish(self, node: Node) -> tuple[bool, int]:
        """The read of ``node`` is over: returns (full, epoch) and re-queues it when dirty."""
        flight = self._inflight.pop(node.path)
        if flight.dirty:
            self.request(flight.node, flight.dirty_full)
        return flight.full, flight.epoch

    def in_flight(self, node: Node) -> bool:
        """True while ``node`` awaits an answer."""
        return node.path in self._inflight

    def drop_queue(self) -> None:
        """Forget queued reads (a new relist will request everything again)."""
        self._queue.clear()
        self._queued.clear()
