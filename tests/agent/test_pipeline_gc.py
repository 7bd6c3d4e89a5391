"""The pipeline moves the first complete state (catalog, then intent) out of the cyclic
collector's reach: a full collection over 100,000 endpoints' objects would pause a later change."""

from __future__ import annotations

import gc

import anyio
import pytest

from dubbomesh.agent.pipeline import Clock, Debounce, run_catalog, run_intent
from dubbomesh.aio.latest import LatestValue
from dubbomesh.dubbo.builder import CatalogBuilder
from dubbomesh.dubbo.model import Catalog, Endpoint, Service, ServiceId
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged, RegistryEvent
from dubbomesh.mesh.intent import Kind, MeshIntent, MeshObject, WorkloadSpec

pytestmark = pytest.mark.anyio


class OnePerService:
    def render(self, catalog: Catalog) -> MeshIntent:
        objects = [
            MeshObject.create(Kind.WORKLOAD_ENTRY, "ns", f"w{i}", WorkloadSpec("10.0.0.1"))
            for i, _ in enumerate(catalog)
        ]
        return MeshIntent.create(objects, catalog_version=catalog.version)


async def test_first_complete_fresh_intent_freezes_the_heap_once() -> None:
    catalogs: LatestValue[Catalog] = LatestValue()
    intents: LatestValue[MeshIntent] = LatestValue()
    gc.unfreeze()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_intent, catalogs, OnePerService(), intents)
            catalogs.set(Catalog.create([], stale=True))
            with anyio.fail_after(5):
                await intents.wait_newer(0)
            assert gc.get_freeze_count() == 0  # a stale (last-known-good) state is not it
            catalogs.set(Catalog.create([]))
            with anyio.fail_after(5):
                await intents.wait_newer(1)
            await anyio.wait_all_tasks_blocked()
            frozen = gc.get_freeze_count()
            assert frozen > 0
            gc.unfreeze()
            sid = ServiceId("com.foo.A")
            ep = Endpoint(sid, "dubbo", "10.0.0.1", 20880)
            catalogs.set(Catalog.create([Service.create(sid, [ep])]))  # fresh, new version
            with anyio.fail_after(5):
                await intents.wait_newer(2)
            await anyio.wait_all_tasks_blocked()
            assert gc.get_freeze_count() == 0  # once only
            tg.cancel_scope.cancel()
    finally:
        gc.unfreeze()


async def test_builder_state_is_frozen_during_and_after_the_first_listing() -> None:
    send, receive = anyio.create_memory_object_stream[RegistryEvent](10)
    catalogs: LatestValue[Catalog] = LatestValue()
    gc.unfreeze()
    try:
        async with anyio.create_task_group() as tg:
            builder = CatalogBuilder(["zk"])
            tg.start_soon(run_catalog, receive, builder, catalogs, Debounce(0, 0), Clock())
            await send.send(ProvidersChanged("zk", "/dubbo", "a", frozenset()))
            await anyio.wait_all_tasks_blocked()
            assert catalogs.generation == 0  # incomplete: nothing published...
            # ...but what the builder accumulated lives long: kept out of full collections
            assert gc.get_freeze_count() > 0
            gc.unfreeze()
            await send.send(ListingComplete("zk"))
            with anyio.fail_after(5):
                await catalogs.wait_newer(0)
            assert gc.get_freeze_count() > 0
            tg.cancel_scope.cancel()
    finally:
        gc.unfreeze()
