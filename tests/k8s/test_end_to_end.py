"""End to end: real ZooKeeper -> the real agent -> the real API server, as the restricted identity.

Providers appear, change and disappear (entry deleted after the grace period); a ZooKeeper session
loss deletes nothing; manual tampering is repaired; two agents elect one writer and fail over; an
API server restart mid-run is caught up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from kazoo.client import KazooClient

from dubbomesh.agent.localzk import LocalZooKeeper
from tests.k8s.harness import eventually, eventually_async
from tests.k8s.pipeline import agent_flags, running_agent
from tests.support.kube import KubeCluster
from tests.support.zkproxy import TcpProxy
from tests.support.zookeeper import expire_session, register_provider, unregister

pytestmark = [pytest.mark.k8s, pytest.mark.integration, pytest.mark.anyio]

IFACE = "org.example.GreetingService"
OTHER = "org.example.OrderService"


def addresses(cluster: KubeCluster, ns: str) -> dict[str, set[str]]:
    """Object name -> endpoint addresses, over ServiceEntries (inline) and WorkloadEntries."""
    out: dict[str, set[str]] = {}
    for name, obj in cluster.objects("ServiceEntry", ns).items():
        out[name] = {e["address"] for e in obj["spec"].get("endpoints", [])}
    for name, obj in cluster.objects("WorkloadEntry", ns).items():
        out[name] = {obj["spec"]["address"]}
    return out


def all_addresses(cluster: KubeCluster, ns: str) -> set[str]:
    return set().union(*addresses(cluster, ns).values()) if addresses(cluster, ns) else set()


def entry_for(cluster: KubeCluster, ns: str, ip: str) -> dict[str, Any] | None:
    for obj in cluster.objects("ServiceEntry", ns).values():
        if ip in {e["address"] for e in obj["spec"].get("endpoints", [])}:
            return obj
    return None


@dataclass
class Session:
    """Stands for the agent's client in ``expire_session`` (only its session id is read)."""

    client_id: tuple[int, bytes]


def record_zk_clients(monkeypatch: pytest.MonkeyPatch) -> list[KazooClient]:
    """Make the agent hand its kazoo clients to the test (to expire the session for real)."""
    from dubbomesh.agent import app
    from dubbomesh.zk.client import make_client

    clients: list[KazooClient] = []
    original = app.run_registry

    def factory(settings: Any) -> KazooClient:
        client = make_client(settings)
        clients.append(client)
        return client

    async def recording(*args: Any, **kwargs: Any) -> None:
        await original(*args, client_factory=factory, **kwargs)

    monkeypatch.setattr(app, "run_registry", recording)
    return clients


@pytest.fixture
def proxy(zk_server: LocalZooKeeper, zk: KazooClient) -> Iterator[TcpProxy]:
    """A cuttable path from the agent to ZooKeeper (the test's own client stays connected)."""
    p = TcpProxy(zk_server.host, zk_server.port)
    yield p
    p.close()


async def test_providers_appear_change_disappear_and_tampering_is_repaired(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path], zk: KazooClient, proxy: TcpProxy
) -> None:
    ns, kubeconfig = kube_namespace
    first = register_provider(zk, IFACE, "10.20.0.1", 20880, application="greeter")
    async with running_agent(agent_flags(proxy.connect_string, ns, kubeconfig)):
        await eventually_async(
            lambda: "10.20.0.1" in all_addresses(kube_apiserver, ns), what="provider appears"
        )
        entry = entry_for(kube_apiserver, ns, "10.20.0.1")
        assert entry is not None
        name = entry["metadata"]["name"]
        labels = entry["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "dubbomesh"
        assert labels["dubbomesh.io/registry"] == "e2e"
        assert {m["manager"] for m in entry["metadata"]["managedFields"]} == {"dubbomesh"}

        # A restart that only changes timestamp/pid writes nothing: once a later, real change
        # (another interface) is visible, the first entry still has its resourceVersion.
        rv = entry["metadata"]["resourceVersion"]
        unregister(zk, first)
        first = register_provider(
            zk, IFACE, "10.20.0.1", 20880, application="greeter", timestamp="1", pid="4242"
        )
        register_provider(zk, OTHER, "10.20.0.9", 20880, application="orders")
        await eventually_async(
            lambda: "10.20.0.9" in all_addresses(kube_apiserver, ns), what="other service"
        )
        assert kube_apiserver.objects("ServiceEntry", ns)[name]["metadata"]["resourceVersion"] == rv

        # Change: a second provider joins, the first leaves (its entry goes after the grace).
        second = register_provider(zk, IFACE, "10.20.0.2", 20880, application="greeter")
        unregister(zk, first)
        await eventually_async(
            lambda: {"10.20.0.2", "10.20.0.9"} == all_addresses(kube_apiserver, ns),
            what="change",
        )

        # Tampering: a hand edit is repaired.
        changed = entry_for(kube_apiserver, ns, "10.20.0.2")
        assert changed is not None
        name = changed["metadata"]["name"]
        api = kube_apiserver.custom()
        await anyio.to_thread.run_sync(
            lambda: api.patch_namespaced_custom_object(
                "networking.istio.io",
                "v1",
                ns,
                "serviceentries",
                name,
                {"spec": {"endpoints": [{"address": "6.6.6.6"}]}},
            )
        )
        await eventually_async(
            lambda: addresses(kube_apiserver, ns).get(name) == {"10.20.0.2"}, what="repaired"
        )

        # Disappear: the entry is deleted after the grace period.
        unregister(zk, second)
        await eventually_async(
            lambda: all_addresses(kube_apiserver, ns) == {"10.20.0.9"}, what="deleted"
        )
        assert name not in kube_apiserver.objects("ServiceEntry", ns)


async def test_zookeeper_session_loss_deletes_nothing(
    kube_apiserver: KubeCluster,
    kube_namespace: tuple[str, Path],
    zk: KazooClient,
    zk_server: LocalZooKeeper,
    proxy: TcpProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ns, kubeconfig = kube_namespace
    clients = record_zk_clients(monkeypatch)
    register_provider(zk, IFACE, "10.21.0.1", 20880, application="greeter")
    leaving = register_provider(zk, OTHER, "10.21.0.2", 20880, application="orders")
    flags = agent_flags(proxy.connect_string, ns, kubeconfig, "--delete-grace", "0")
    async with running_agent(flags) as agent:
        await eventually_async(
            lambda: {"10.21.0.1", "10.21.0.2"} <= all_addresses(kube_apiserver, ns), what="both"
        )
        staying = entry_for(kube_apiserver, ns, "10.21.0.1")
        assert staying is not None
        uid, rv = staying["metadata"]["uid"], staying["metadata"]["resourceVersion"]
        before = {
            n: o["metadata"]["resourceVersion"]
            for n, o in kube_apiserver.objects("ServiceEntry", ns).items()
        }

        session = clients[-1].client_id
        proxy.cut()  # partition the agent, then really expire its session on the server
        registry = agent.status.registries["default"]
        await eventually(lambda: not registry.connected, what="agent disconnected")
        unregister(zk, leaving)  # a real change the agent cannot see yet
        await anyio.to_thread.run_sync(expire_session, Session(session), zk_server.connect_string)
        # Disconnected with an expired session: with a zero grace period, any deletion from a
        # partial view would be immediate. Nothing moved.
        after = {
            n: o["metadata"]["resourceVersion"]
            for n, o in kube_apiserver.objects("ServiceEntry", ns).items()
        }
        assert after == before

        proxy.heal()  # new session, relist: only the provider that really left goes
        await eventually_async(
            lambda: all_addresses(kube_apiserver, ns) == {"10.21.0.1"}, within=60, what="relist"
        )
        assert "expired" in registry.last_error  # the session was really lost
        kept = entry_for(kube_apiserver, ns, "10.21.0.1")
        assert kept is not None
        assert (kept["metadata"]["uid"], kept["metadata"]["resourceVersion"]) == (uid, rv)


async def test_two_agents_one_writer_and_failover(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path], zk: KazooClient, proxy: TcpProxy
) -> None:
    ns, kubeconfig = kube_namespace
    register_provider(zk, IFACE, "10.22.0.1", 20880, application="greeter")
    flags = agent_flags(proxy.connect_string, ns, kubeconfig)
    async with running_agent(flags) as a:
        await eventually(lambda: a.status.kube_leader, what="a leads")
        async with running_agent(flags) as b:
            await eventually_async(
                lambda: "10.22.0.1" in all_addresses(kube_apiserver, ns), what="published"
            )
            assert a.status.kube_leader
            assert not b.status.kube_leader
            a.stop()  # graceful: releases the lease
            await eventually(lambda: b.status.kube_leader, within=20, what="b takes over")
            register_provider(zk, OTHER, "10.22.0.2", 20880, application="orders")
            await eventually_async(
                lambda: "10.22.0.2" in all_addresses(kube_apiserver, ns), what="b writes"
            )


async def test_api_server_restart_mid_run(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path], zk: KazooClient, proxy: TcpProxy
) -> None:
    if kube_apiserver.external is not None:
        pytest.skip("restarting the API server needs the local test cluster")
    ns, kubeconfig = kube_namespace
    register_provider(zk, IFACE, "10.23.0.1", 20880, application="greeter")
    async with running_agent(agent_flags(proxy.connect_string, ns, kubeconfig)) as agent:
        await eventually_async(
            lambda: "10.23.0.1" in all_addresses(kube_apiserver, ns), what="published"
        )
        await anyio.to_thread.run_sync(kube_apiserver.stop_apiserver)
        try:
            register_provider(zk, OTHER, "10.23.0.2", 20880, application="orders")
            await eventually(lambda: not agent.status.kube_reachable, what="unreachable")
        finally:
            await anyio.to_thread.run_sync(kube_apiserver.start_apiserver)
        await eventually_async(
            lambda: "10.23.0.2" in all_addresses(kube_apiserver, ns), within=60, what="caught up"
        )
        assert agent.status.kube_reachable
