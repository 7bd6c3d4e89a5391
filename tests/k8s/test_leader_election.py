"""Two agents, one Lease: exactly one writes; failover on crash and on graceful shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.k8s.harness import eventually, eventually_async, fast_settings, running_sink
from tests.k8s.samples import intent, service_entry
from tests.support.kube import KubeCluster

pytestmark = [pytest.mark.k8s, pytest.mark.anyio]


def lease_holder(cluster: KubeCluster, ns: str) -> str:
    from kubernetes import client

    lease = client.CoordinationV1Api(cluster.api).read_namespaced_lease("dubbomesh", ns)
    return str(lease.spec.holder_identity or "")


@pytest.mark.parametrize("graceful", [True, False], ids=["graceful", "crash"])
async def test_one_leader_writes_and_the_other_takes_over(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path], graceful: bool
) -> None:
    ns, kubeconfig = kube_namespace
    first = fast_settings(ns, kubeconfig, identity="agent-a")
    second = fast_settings(ns, kubeconfig, identity="agent-b")
    objs = [service_entry("one", "10.0.0.1")]
    async with running_sink(first, release_on_exit=graceful) as a:
        a.publish(intent(*objs))
        await eventually(lambda: a.observer.is_leader, what="a leads")
        await a.settle()
        async with running_sink(second) as b:
            b.publish(intent(*objs))
            # b follows: it never writes while a holds the lease.
            await eventually_async(lambda: lease_holder(kube_apiserver, ns) == "agent-a")
            objs.append(service_entry("two", "10.0.0.2"))
            a.publish(intent(*objs))
            b.publish(intent(*objs))
            await a.settle()
            assert not b.observer.is_leader
            assert b.observer.write_requests == 0
            assert b.observer.total_writes == 0

            a.stop()  # graceful: lease released; crash: lease left to expire
            await eventually(lambda: b.observer.is_leader, within=20, what="b takes over")
            assert lease_holder(kube_apiserver, ns) == "agent-b"
            objs.append(service_entry("three", "10.0.0.3"))
            b.publish(intent(*objs))
            await eventually_async(
                lambda: (
                    sorted(kube_apiserver.objects("ServiceEntry", ns)) == ["one", "three", "two"]
                ),
                what="b writes",
            )
            # b found a's objects already in step: it wrote only the new one.
            assert b.observer.writes == {"apply": 1}
