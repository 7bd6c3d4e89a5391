"""The two pure-data stages of the agent: registry events -> Catalog -> MeshIntent.

Why this module exists: the data flow of the architecture guide in one readable place. ZooKeeper
adapters push :mod:`~dubbomesh.dubbo.registry` events into one stream; the catalog task is the
single owner of the :class:`CatalogBuilder`, coalesces bursts (debounce with a maximum delay) into
one catalog version, and publishes it in a :class:`LatestValue`. The intent task renders each new
catalog into a :class:`MeshIntent` for the sinks. Slow sinks never slow these stages: every sink
reads only the newest value at its own pace.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from dubbomesh.aio.latest import LatestValue
from dubbomesh.dubbo.model import Catalog
from dubbomesh.dubbo.registry import RegistryEvent
from dubbomesh.mesh.intent import MeshIntent

log = logging.getLogger(__name__)


class Builder(Protocol):
    """What the catalog task needs from :class:`dubbomesh.dubbo.builder.CatalogBuilder`."""

    def apply(self, event: RegistryEvent) -> None: ...

    def snapshot(self) -> Catalog: ...

    @property
    def complete(self) -> bool:
        """Every registry finished a listing (a snapshot before that is never published)."""
        ...


class IntentRenderer(Protocol):
    """What the intent task needs from the mesh renderer."""

    def render(self, catalog: Catalog) -> MeshIntent: ...


class PipelineObserver(Protocol):
    """Metrics hooks of the two stages."""

    def catalog_published(self, catalog: Catalog, events: int) -> None: ...

    def intent_published(self, intent: MeshIntent) -> None: ...


class Clock:
    """Remembers when the oldest event folded into each catalog version arrived.

    Sinks call :meth:`age` with the catalog version they just delivered to observe the
    ZooKeeper-event-to-delivery latency. Bounded: only the newest versions are kept.
    """

    def __init__(self, keep: int = 256) -> None:
        self._t0: OrderedDict[str, float] = OrderedDict()
        self._keep = keep

    def stamp(self, version: str, t0: float) -> None:
        """Record the first-event time of ``version`` (the earliest stamp wins)."""
        if version not in self._t0:
            self._t0[version] = t0
            while len(self._t0) > self._keep:
                self._t0.popitem(last=False)

    def age(self, version: str) -> float | None:
        """Seconds since the first event of ``version``; None for unknown versions."""
        t0 = self._t0.get(version)
        return None if t0 is None else time.monotonic() - t0


@dataclass(frozen=True, slots=True)
class Debounce:
    """Quiet time and maximum delay before a burst of events becomes one catalog version."""

    quiet: float = 0.1
    maximum: float = 1.0


async def _collect(
    receive: MemoryObjectReceiveStream[RegistryEvent],
    first: RegistryEvent,
    debounce: Debounce,
    apply: Callable[[RegistryEvent], None],
) -> int:
    """Apply ``first`` and every event of the same burst; return how many were applied."""
    apply(first)
    count = 1
    deadline = time.monotonic() + debounce.maximum
    while True:
        # Take whatever is already queued without yielding per event.
        while True:
            try:
                event = receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream):
                break
            apply(event)
            count += 1
        remaining = deadline - time.monotonic()
        if debounce.quiet <= 0 or remaining <= 0:
            return count
        with anyio.move_on_after(min(debounce.quiet, remaining)):
            try:
                apply(await receive.receive())
            except anyio.EndOfStream:
                return count
            count += 1
            continue
        return count


async def run_catalog(
    receive: MemoryObjectReceiveStream[RegistryEvent],
    builder: Builder,
    out: LatestValue[Catalog],
    debounce: Debounce,
    clock: Clock,
    observer: PipelineObserver | None = None,
) -> None:
    """Own the builder: fold events into catalogs; publish only complete, changed versions.

    A catalog loaded from the last-known-good file may already be in ``out``; it stays there
    until the builder has a complete view, which then replaces it even when equal (to clear
    ``stale``).
    """
    last_version = ""
    async with receive:
        while True:
            try:
                first = await receive.receive()
            except anyio.EndOfStream:
                return
            t0 = time.monotonic()
            events = await _collect(receive, first, debounce, builder.apply)
            if not builder.complete:
                # Nothing is published before the first complete listing, so do not snapshot
                # either: each snapshot copies and re-sorts the service table, and a first
                # listing of 10,000 directories arrives in thousands of small bursts (quadratic:
                # 100 s instead of 4 s with the debounce at zero, as `render` runs it). What the
                # builder holds now lives long: freeze it (O(1)) so that the full collections a
                # growing heap triggers do not walk it again and again (7 walks of an ever
                # bigger heap during a 100,000-node listing; the GC policy's first full
                # collection still reclaims any cyclic garbage).
                gc.freeze()
                continue
            catalog = builder.snapshot()
            if not catalog.complete:
                continue
            current = out.get()
            if catalog.version == last_version and current is not None and not current.stale:
                continue
            first_complete = not last_version
            last_version = catalog.version
            clock.stamp(catalog.version, t0)
            out.set(catalog)
            if first_complete:
                gc.freeze()  # the builder's state lives long: keep full collections off it
            if observer is not None:
                observer.catalog_published(catalog, events)
            log.info(
                "catalog %s: %d services, %d endpoints (%d events)",
                catalog.version,
                len(catalog),
                catalog.endpoint_count,
                events,
            )


async def run_intent(
    catalogs: LatestValue[Catalog],
    renderer: IntentRenderer,
    out: LatestValue[MeshIntent],
    *,
    observer: PipelineObserver | None = None,
) -> None:
    """Render each new catalog; publish the intent when its version (or staleness) changed."""
    seen = 0
    frozen = False
    while True:
        try:
            seen, catalog = await catalogs.wait_newer(seen)
        except anyio.EndOfStream:
            return
        intent = renderer.render(catalog)
        intent = replace(
            intent, catalog_version=catalog.version, complete=catalog.complete, stale=catalog.stale
        )
        current = out.get()
        if current is not None and (current.version, current.stale) == (
            intent.version,
            intent.stale,
        ):
            continue
        out.set(intent)
        if observer is not None:
            observer.intent_published(intent)
        if not frozen and intent.complete and not intent.stale:
            # The first full intent lives long too (the catalog was frozen when published). A
            # full collection over 100,000 endpoints' objects pauses ~0.7 s (measured, see
            # bench/RESULTS.md), and would land on whichever change triggers it.
            gc.freeze()
            frozen = True
