"""The one task that owns a registry's mirror: it drains the inbox, reads, relists and resyncs.

Why this module exists: correctness under faults is a property of a single sequential owner.
kazoo's threads only enqueue (results, watch notifications, connection states); this task applies
them in order, decides what to read next, and hands finished events to the caller. Fault rules:

- SUSPENDED / LOST / server down: nothing is removed (reads lost to the connection change nothing).
- Every (re)connection starts a complete relist of the tree (kazoo drops all watches on a
  disconnect); the mirror publishes only what differs. A pass that lost reads to the connection
  is not "complete": the next connection relists again.
- A periodic, jittered resync relists while connected; what it finds changed is drift (missed
  watches) and is reported.
- A node that cannot be read (permission, garbage, too large) becomes a BadNode; the rest goes on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.abc import TaskStatus
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    ConnectionClosedError,
    ConnectionLoss,
    NoAuthError,
    NoNodeError,
    OperationTimeoutError,
    SessionExpiredError,
)
from kazoo.protocol.states import WatchedEvent

from dubbomesh.dubbo.registry import ListingComplete, RegistryEvent
from dubbomesh.zk.client import auth_failed, translate_state
from dubbomesh.zk.errors import ZkAuthError
from dubbomesh.zk.inbox import Inbox
from dubbomesh.zk.lister import Done, InboxItem, Lister
from dubbomesh.zk.mirror import Mirror
from dubbomesh.zk.observer import ConnectionState, PassReason, SessionEvent, ZkObserver
from dubbomesh.zk.paths import Node, PathMap
from dubbomesh.zk.settings import RegistrySettings

_CONNECTION_ERRORS = (
    ConnectionLoss,
    SessionExpiredError,
    ConnectionClosedError,
    OperationTimeoutError,
)

AsyncEmit = Callable[[RegistryEvent], Awaitable[None]]

COALESCE_MIN = 64
"""Reads in flight from which a listing pass pauses between batches (see COALESCE_SECONDS)."""
COALESCE_SECONDS = 0.008
"""The pause: long enough to gather tens of answers per wake-up, short next to a listing. With
early events the batches also reach the catalog task in bigger bursts: 8 ms instead of 2 ms took
0.2 s off a 10,000 x 10 first sync (bench_zk_sync). At 1,024 reads in flight even a fast server
answers only some hundreds during a pause, so the pipeline never drains."""


class _ResyncTick:
    """Timer tick asking for a periodic resync."""


RESYNC = _ResyncTick()
"""Put this in the inbox to ask for a resync (the timer does; tests may too)."""


@dataclass(slots=True)
class _Pass:
    reason: PassReason
    started: float
    reads0: int
    changes0: int
    failed: bool = False


class Watcher:
    """Mirror owner for one registry. Create and run inside the event loop."""

    def __init__(
        self,
        settings: RegistrySettings,
        client: KazooClient,
        inbox: Inbox[InboxItem],
        observer: ZkObserver,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self._client = client
        self._inbox = inbox
        self._obs = observer
        self.paths = PathMap(settings.roots, settings.services_root, settings.application_discovery)
        self.mirror = Mirror(
            self.name,
            self.paths,
            max_directory_bytes=settings.max_directory_bytes,
            early=settings.early_events,
        )
        self.lister = Lister(client, inbox, settings.max_in_flight)
        self.ready = False
        """True once the first complete listing was handed out."""
        self._pass: _Pass | None = None
        self._connected = False
        self._session: int | None = None

    # -- the task -----------------------------------------------------------------------------
    async def run(self, emit: AsyncEmit, task_status: TaskStatus[None]) -> None:
        """Process the inbox forever; ``task_status.started()`` after the first complete listing."""
        started = False
        async with anyio.create_task_group() as tg:
            if self.settings.resync_interval > 0:
                tg.start_soon(self._resync_timer, name=f"zk-resync-{self.name}")
            while True:
                for item in await self._inbox.get_batch():
                    self.handle(item)
                for event in self.after_batch():
                    await emit(event)
                if self.ready and not started:
                    started = True
                    task_status.started()
                if self._pass is not None and self.lister.in_flight_count >= COALESCE_MIN:
                    # A bulk listing: let answers pile up instead of waking per answer (each
                    # wake-up costs more than handling one answer). Never in steady state.
                    await anyio.sleep(COALESCE_SECONDS)

    async def _resync_timer(self) -> None:
        rng = random.Random()
        mean, jitter = self.settings.resync_interval, self.settings.resync_jitter
        while True:
            await anyio.sleep(mean * (1 - jitter + 2 * jitter * rng.random()))
            self._inbox.put(RESYNC)

    # -- input --------------------------------------------------------------------------------
    def handle(self, item: InboxItem) -> None:
        """Apply one inbox item."""
        if isinstance(item, Done):
            self._done(item)
        elif isinstance(item, WatchedEvent):
            if item.path is None:
                return  # kazoo's "watches reset" notice on a disconnect: relist covers it
            node = self.paths.classify(item.path)
            if node is not None:
                self._obs.watch_event(self.name, node.kind.label)
                self.lister.request(node, False)
        elif isinstance(item, _ResyncTick):
            if self._connected and self._pass is None and self.ready:
                self._start_pass(PassReason.RESYNC)
        elif isinstance(item, str):
            self._state(item)

    def _state(self, state: str) -> None:
        ours = translate_state(self._client, state)
        self._obs.connection_state(self.name, ours)
        if state == KazooState.CONNECTED:
            self._connected = True
            session = self._client.client_id[0] if self._client.client_id else None
            same = session is not None and session == self._session
            self._obs.session_event(
                self.name, SessionEvent.RESUMED if same else SessionEvent.ESTABLISHED
            )
            self._session = session
            self.lister.epoch += 1
            self._start_pass(PassReason.RECONNECT if self.ready else PassReason.INITIAL)
            return
        self._connected = False
        self._pass = None  # abandoned: the next connection relists everything
        self.lister.drop_queue()
        if ours is ConnectionState.LOST:
            if auth_failed(self._client):
                self._obs.session_event(self.name, SessionEvent.AUTH_FAILED)
                raise ZkAuthError(f"registry {self.name!r}: ZooKeeper refused our credentials")
            if self._session is not None:
                self._obs.session_event(self.name, SessionEvent.EXPIRED)
                self._session = None

    def _start_pass(self, reason: PassReason) -> None:
        self._pass = _Pass(reason, time.monotonic(), self.lister.reads, self.mirror.changes)
        for node in self.paths.top():
            self.lister.request(node, True)

    def _done(self, done: Done) -> None:
        node, result = done.node, done.result
        if not self.lister.in_flight(node):  # pragma: no cover - every Done has a flight
            return
        exc = result.exception
        if exc is None:
            if not done.probe:
                self._finish(node, result.value, present=True)
            elif result.value is not None:
                self.lister.reissue(node)  # created between the read and the probe
            else:
                self._finish(node, None, present=False)
            return
        if isinstance(exc, NoNodeError) and not done.probe:
            self.lister.probe(node)
            return
        _, epoch = self.lister.finish(node)
        if isinstance(exc, _CONNECTION_ERRORS):
            if self._pass is not None and epoch == self.lister.epoch:
                self._pass.failed = True
            return
        reason = (
            "permission denied" if isinstance(exc, NoAuthError) else f"{type(exc).__name__}: {exc}"
        )
        self.mirror.on_bad(node, reason)
        self._obs.bad_node(self.name, node.path, reason)

    def _finish(self, node: Node, value: Any, *, present: bool) -> None:
        full, _ = self.lister.finish(node)
        if node.kind.lists_children:
            names: list[str] | None = value if present else None  # kazoo's list, not copied
            for child in self.mirror.on_children(node, names, full=full):
                self.lister.request(child, full)
        else:
            data = value[0] if present else None
            self.mirror.on_data(node, data if data is not None or not present else b"")

    # -- output -------------------------------------------------------------------------------
    def after_batch(self) -> list[RegistryEvent]:
        """Issue reads, then return the events to publish (completing a pass when all is read)."""
        if self._connected:
            self.lister.pump()
        current = self._pass
        if current is None or not self._connected or not self.lister.idle:
            return self.mirror.take_events()
        self._pass = None
        if current.failed:
            return self.mirror.take_events()  # the next connection relists
        events = self.mirror.complete()
        changed = self.mirror.changes - current.changes0
        reads = self.lister.reads - current.reads0
        elapsed = time.monotonic() - current.started
        if current.reason is PassReason.RESYNC:
            self._obs.resync_drift(self.name, changed)
        else:
            events.append(ListingComplete(self.name))
        self.ready = True
        self._obs.listing_complete(
            self.name, current.reason, seconds=elapsed, reads=reads, changed=changed
        )
        return events
