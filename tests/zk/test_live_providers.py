"""Providers come and go on a real ZooKeeper; the mirror follows with full-state events."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.dubbo.registry import (
    ConfiguratorsChanged,
    DirectoryRemoved,
    ListingComplete,
    ProvidersChanged,
)
from tests.support.zookeeper import (
    child_name,
    live_mirror,
    register_provider,
    settings_for,
    unregister,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

IFACE = "org.example.GreetingService"


async def test_initial_listing_is_complete_before_anything_is_published(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    paths = [register_provider(zk, f"org.example.S{i}", "10.0.0.1", 20880 + i) for i in range(5)]
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        # ready means: every directory was emitted, then ListingComplete, and nothing after it yet
        assert isinstance(m.events[-1], ListingComplete)
        listed = {e.directory for e in m.events if isinstance(e, ProvidersChanged)}
        assert listed == {f"org.example.S{i}" for i in range(5)}
        assert m.providers("org.example.S3") == {child_name(paths[3])}
        assert m.observer.ready


async def test_providers_come_and_go(zk: KazooClient, zk_server: LocalZooKeeper) -> None:
    first = register_provider(zk, IFACE, "10.0.0.1", 20880)
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        second = register_provider(zk, IFACE, "10.0.0.2", 20880, protocol="tri")
        both = {child_name(first), child_name(second)}
        await m.wait(lambda: m.providers(IFACE) == both, what="second provider")
        unregister(zk, first)
        await m.wait(lambda: m.providers(IFACE) == {child_name(second)}, what="first gone")
        unregister(zk, second)
        await m.wait(lambda: m.providers(IFACE) == frozenset(), what="empty providers")


async def test_new_interface_and_removed_directory(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        path = register_provider(zk, IFACE, "10.0.0.1", 20880)
        await m.wait(lambda: m.providers(IFACE) == {child_name(path)}, what="new interface")
        zk.delete(f"/dubbo/{IFACE}", recursive=True)
        await m.wait(
            lambda: any(isinstance(e, DirectoryRemoved) and e.directory == IFACE for e in m.events),
            what="directory removed",
        )


async def test_a_no_op_rewrite_publishes_nothing(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    path = register_provider(zk, IFACE, "10.0.0.1", 20880)
    zk.ensure_path(f"/dubbo/{IFACE}/configurators")
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        before = len(m.events)
        # delete + recreate the same node: the watch fires, the listing is identical in the end
        unregister(zk, path)
        await m.wait(lambda: m.providers(IFACE) == frozenset(), what="deletion seen")
        register_provider(zk, IFACE, "10.0.0.1", 20880)
        await m.wait(lambda: m.providers(IFACE) == {child_name(path)}, what="recreated")
        # configurators directory was never touched: no event about it after the first listing
        later = m.events[before:]
        assert not [e for e in later if isinstance(e, ConfiguratorsChanged)]
