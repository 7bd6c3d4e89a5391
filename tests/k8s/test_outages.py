"""Bad input and outages: API server down at start or mid-run, RBAC forbidden, CRD missing.

In every case the sink keeps running (the agent keeps serving xDS), reports what is wrong, and
catches up when the cause goes away.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.k8s.harness import eventually, eventually_async, fast_settings, running_sink
from tests.k8s.samples import intent, service_entry
from tests.support.kube import KubeCluster

pytestmark = [pytest.mark.k8s, pytest.mark.anyio]


def local_only(cluster: KubeCluster) -> None:
    if cluster.external is not None:
        pytest.skip("restarting the API server needs the local test cluster")


async def test_api_server_down_at_start_then_up(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    local_only(kube_apiserver)
    ns, kubeconfig = kube_namespace
    await anyio.to_thread.run_sync(kube_apiserver.stop_apiserver)
    try:
        async with running_sink(fast_settings(ns, kubeconfig)) as sink:
            sink.publish(intent(service_entry("early", "10.0.0.1")))
            await eventually(lambda: sink.observer.reachable is False, what="unreachable")
            await anyio.to_thread.run_sync(kube_apiserver.start_apiserver)
            await eventually(lambda: sink.observer.reachable is True, what="reachable")
            await eventually_async(
                lambda: "early" in kube_apiserver.objects("ServiceEntry", ns), what="caught up"
            )
    finally:
        if kube_apiserver.apiserver is None:
            kube_apiserver.start_apiserver()


async def test_api_server_restart_mid_run(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    local_only(kube_apiserver)
    ns, kubeconfig = kube_namespace
    async with running_sink(fast_settings(ns, kubeconfig, grace_period=0.0)) as sink:
        sink.publish(intent(service_entry("a", "10.0.0.1"), service_entry("b", "10.0.0.2")))
        await sink.settle()
        await anyio.to_thread.run_sync(kube_apiserver.stop_apiserver)
        try:
            # Changes while the server is down: one updated, one removed, one added.
            sink.publish(intent(service_entry("a", "10.0.0.9"), service_entry("c", "10.0.0.3")))
            await eventually(lambda: sink.observer.reachable is False, what="unreachable")
        finally:
            await anyio.to_thread.run_sync(kube_apiserver.start_apiserver)

        def caught_up() -> bool:
            ses = kube_apiserver.objects("ServiceEntry", ns)
            return sorted(ses) == ["a", "c"] and (
                ses["a"]["spec"]["endpoints"][0]["address"] == "10.0.0.9"
            )

        await eventually_async(caught_up, within=60, what="caught up after restart")
        assert sink.observer.reachable is True


async def test_rbac_forbidden_names_what_is_missing(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    _, kubeconfig = kube_namespace
    other, _ = kube_apiserver.new_namespace("other")
    # The ServiceAccount of `ns` pointed at a namespace where nothing is granted to it.
    async with running_sink(fast_settings(other, kubeconfig)) as sink:
        sink.publish(intent(service_entry("x", "10.0.0.1")))
        await eventually(lambda: sink.observer.problems, what="a problem report")
        message = sink.observer.problems[-1]
        assert message is not None
        assert "does not grant" in message
        assert "patch serviceentries.networking.istio.io" in message
        assert "get leases.coordination.k8s.io" in message
        assert not sink.scope.cancel_called  # still running, no crash loop
    assert kube_apiserver.objects("ServiceEntry", other) == {}


async def test_crd_missing_names_the_crd(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    local_only(kube_apiserver)  # a cluster with Istio installed serves v1beta1
    ns, kubeconfig = kube_namespace
    # The shipped CRDs serve v1alpha3 and v1 only: asking for v1beta1 is a "CRD missing" case.
    async with running_sink(fast_settings(ns, kubeconfig, api_version="v1beta1")) as sink:
        await eventually(lambda: sink.observer.problems, what="a problem report")
        message = sink.observer.problems[-1]
        assert message is not None
        assert "serviceentries.networking.istio.io" in message
        assert "workloadentries.networking.istio.io" in message
        assert "v1beta1" in message
