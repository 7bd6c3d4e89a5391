"""The catalog and intent stages: bursts coalesce, incomplete views never publish, no-ops skip."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import anyio
import pytest

from dubbomesh.agent.pipeline import Clock, Debounce, run_catalog, run_intent
from dubbomesh.aio.latest import LatestValue
from dubbomesh.dubbo.model import Catalog, Endpoint, Service, ServiceId
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged, RegistryEvent
from dubbomesh.mesh.intent import MeshIntent

pytestmark = pytest.mark.anyio


@dataclass
class FakeBuilder:
    """Catalog = one service per providers directory, one endpoint per child name."""

    dirs: dict[str, frozenset[str]] = field(default_factory=dict)
    complete: bool = False
    snapshots: int = 0

    def apply(self, event: RegistryEvent) -> None:
        if isinstance(event, ProvidersChanged):
            self.dirs[event.directory] = event.children
        elif isinstance(event, ListingComplete):
            self.complete = True

    def snapshot(self) -> Catalog:
        self.snapshots += 1
        services = []
        for d, children in self.dirs.items():
            sid = ServiceId(d)
            eps = [Endpoint(sid, "dubbo", f"10.0.0.{i}", 20880) for i, _ in enumerate(children)]
            services.append(Service.create(sid, eps))
        return Catalog.create(services, complete=self.complete)


def ev(d: str, *children: str) -> ProvidersChanged:
    return ProvidersChanged("default", "/dubbo", d, frozenset(children))


async def _wait_generation(cell: LatestValue[Catalog], gen: int) -> Catalog:
    with anyio.fail_after(5):
        _, value = await cell.wait_newer(gen - 1)
    return value


async def test_nothing_published_before_complete_listing() -> None:
    send, receive = anyio.create_memory_object_stream[RegistryEvent](math.inf)
    builder = FakeBuilder()
    out: LatestValue[Catalog] = LatestValue()
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_catalog, receive, builder, out, Debounce(0, 0), Clock())
        for i in range(3):  # three bursts of a first listing
            send.send_nowait(ev(f"a{i}", "x"))
            await anyio.wait_all_tasks_blocked()
        assert out.generation == 0
        assert builder.snapshots == 0  # an incomplete view is not even built (quadratic)
        send.send_nowait(ListingComplete("default"))
        catalog = await _wait_generation(out, 1)
        assert catalog.complete
        assert [s.id.interface for s in catalog] == ["a0", "a1", "a2"]
        assert builder.snapshots == 1
        tg.cancel_scope.cancel()


async def test_burst_becomes_one_version_and_noop_is_skipped() -> None:
    send, receive = anyio.create_memory_object_stream[RegistryEvent](math.inf)
    builder = FakeBuilder(complete=True)
    out: LatestValue[Catalog] = LatestValue()
    for i in range(1000):
        send.send_nowait(ev(f"svc{i % 10}", f"n{i}"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_catalog, receive, builder, out, Debounce(0, 0), Clock())
        first = await _wait_generation(out, 1)
        assert len(first) == 10
        assert builder.snapshots == 1
        # The same content again: a snapshot is taken but nothing is published.
        send.send_nowait(ev("svc0", "n990"))
        await anyio.wait_all_tasks_blocked()
        assert builder.snapshots == 2
        assert out.generation == 1
        tg.cancel_scope.cancel()


async def test_fresh_listing_replaces_stale_catalog_even_when_equal() -> None:
    send, receive = anyio.create_memory_object_stream[RegistryEvent](math.inf)
    builder = FakeBuilder(complete=True)
    builder.dirs["a"] = frozenset({"x"})
    stale = Catalog.create(builder.snapshot().services.values(), stale=True)
    out: LatestValue[Catalog] = LatestValue()
    out.set(stale)
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_catalog, receive, builder, out, Debounce(0, 0), Clock())
        send.send_nowait(ev("a", "x"))
        fresh = await _wait_generation(out, 2)
        assert fresh.version == stale.version
        assert not fresh.stale
        tg.cancel_scope.cancel()


class CountingRenderer:
    def __init__(self) -> None:
        self.calls = 0

    def render(self, catalog: Catalog) -> MeshIntent:
        self.calls += 1
        return MeshIntent.create([], catalog_version=catalog.version)


async def test_intent_stage_copies_freshness_and_skips_equal_versions() -> None:
    catalogs: LatestValue[Catalog] = LatestValue()
    intents: LatestValue[MeshIntent] = LatestValue()
    renderer = CountingRenderer()
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_intent, catalogs, renderer, intents)
        catalogs.set(Catalog.create([], stale=True))
        with anyio.fail_after(5):
            _, first = await intents.wait_newer(0)
        assert first.stale
        catalogs.set(Catalog.create([]))
        with anyio.fail_after(5):
            _, second = await intents.wait_newer(1)
        assert not second.stale
        assert second.complete
        catalogs.set(Catalog.create([]))
        await anyio.wait_all_tasks_blocked()
        assert renderer.calls == 3
        assert intents.generation == 2
        tg.cancel_scope.cancel()


def test_clock_ages_are_bounded() -> None:
    clock = Clock(keep=2)
    clock.stamp("a", 0.0)
    clock.stamp("b", 0.0)
    clock.stamp("c", 0.0)
    assert clock.age("a") is None
    assert clock.age("c") is not None
