"""Faults on a real ZooKeeper: no registered endpoint is ever withdrawn, and the mirror converges.

Session expiry, a partition of the agent alone (changes made meanwhile must be found by the relist),
a server stop/start, and a frozen (SIGSTOP) server.
"""

from __future__ import annotations

import anyio
import pytest
from kazoo.client import KazooClient

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged
from dubbomesh.zk.observer import ConnectionState, PassReason, SessionEvent
from tests.support.zkproxy import TcpProxy
from tests.support.zookeeper import (
    LiveMirror,
    child_name,
    connect,
    expire_session,
    live_mirror,
    register_provider,
    settings_for,
    unregister,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

IFACE = "org.example.FaultService"
OTHER = "org.example.QuietService"


def reconnect_passes(m: LiveMirror) -> int:
    return sum(1 for reason, _, _ in m.observer.passes if reason is PassReason.RECONNECT)


async def test_session_expiry_withdraws_nothing(zk: KazooClient, zk_server: LocalZooKeeper) -> None:
    kept = register_provider(zk, IFACE, "10.0.0.1", 20880)
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        m.guarded[IFACE] = frozenset({child_name(kept)})
        await anyio.to_thread.run_sync(expire_session, m.client, zk_server.connect_string)
        await m.wait(lambda: SessionEvent.EXPIRED in m.observer.sessions, what="expiry seen")
        await m.wait(lambda: reconnect_passes(m) >= 1, what="relist after the new session")
        assert m.observer.sessions.count(SessionEvent.ESTABLISHED) == 2
        # the new session has working watches
        added = register_provider(zk, IFACE, "10.0.0.2", 20880)
        want = {child_name(kept), child_name(added)}
        await m.wait(lambda: m.providers(IFACE) == want, what="provider added after expiry")
        assert m.violations == []


async def test_changes_during_a_partition_are_found_by_the_relist(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    kept = register_provider(zk, IFACE, "10.0.0.1", 20880)
    leaving = register_provider(zk, IFACE, "10.0.0.3", 20880)
    quiet = register_provider(zk, OTHER, "10.0.0.9", 20880)
    proxy = TcpProxy(zk_server.host, zk_server.port)
    try:
        async with live_mirror(settings_for(proxy.connect_string)) as m:
            m.guarded[IFACE] = frozenset({child_name(kept)})
            proxy.cut()
            await m.wait(lambda: m.observer.state is ConnectionState.SUSPENDED, what="suspended")
            # the agent cannot see these: only the relist after reconnection can
            unregister(zk, leaving)
            joined = register_provider(zk, IFACE, "10.0.0.2", 20880)
            mark = len(m.events)
            proxy.heal()
            await m.wait(lambda: reconnect_passes(m) >= 1, what="relist after the partition")
            assert m.providers(IFACE) == {child_name(kept), child_name(joined)}
            assert m.providers(OTHER) == {child_name(quiet)}
            # only the difference is published: one event for IFACE, none for the quiet service
            after = [e for e in m.events[mark:] if isinstance(e, ProvidersChanged)]
            assert [e.directory for e in after] == [IFACE]
            assert isinstance(m.events[-1], ListingComplete)
            assert m.violations == []
    finally:
        proxy.close()


async def test_server_stop_and_start(zk_private_server: LocalZooKeeper) -> None:
    server = zk_private_server
    writer = connect(server.connect_string)
    short = connect(server.connect_string, timeout=2.0)
    try:
        kept = register_provider(writer, IFACE, "10.0.0.1", 20880, ephemeral=False)
        dying = register_provider(short, IFACE, "10.0.0.5", 20880)
        async with live_mirror(settings_for(server.connect_string)) as m:
            m.guarded[IFACE] = frozenset({child_name(kept)})
            assert m.providers(IFACE) == {child_name(kept), child_name(dying)}
            await anyio.to_thread.run_sync(server.stop)
            await m.wait(lambda: m.observer.state is ConnectionState.SUSPENDED, what="suspended")
            # the owner of ``dying`` goes away while the server is down: its session will expire
            await anyio.to_thread.run_sync(short.stop)
            await anyio.to_thread.run_sync(server.start)
            await m.wait(lambda: reconnect_passes(m) >= 1, what="relist after restart")
            await m.wait(
                lambda: m.providers(IFACE) == {child_name(kept)}, what="expired provider removed"
            )
            assert m.violations == []
    finally:
        for c in (writer, short):
            c.stop()
            c.close()


async def test_paused_server(zk_private_server: LocalZooKeeper) -> None:
    server = zk_private_server
    writer = connect(server.connect_string, timeout=30.0)
    try:
        kept = register_provider(writer, IFACE, "10.0.0.1", 20880)
        async with live_mirror(settings_for(server.connect_string)) as m:
            m.guarded[IFACE] = frozenset({child_name(kept)})
            server.pause()
            try:
                await m.wait(
                    lambda: m.observer.state is ConnectionState.SUSPENDED, what="suspended"
                )
            finally:
                server.resume()
            await m.wait(lambda: reconnect_passes(m) >= 1, what="relist after resume")
            added = register_provider(writer, IFACE, "10.0.0.2", 20880)
            want = {child_name(kept), child_name(added)}
            await m.wait(lambda: m.providers(IFACE) == want, what="converged after pause")
            assert m.violations == []
    finally:
        writer.stop()
        writer.close()
