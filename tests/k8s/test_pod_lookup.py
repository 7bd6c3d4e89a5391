"""Pod lookup: WorkloadEntries get the pod's service account, never the provider's claim.

Off unless granted: without deploy/rbac-pod-lookup.yaml the preflight names the missing verb.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from kubernetes import client

from tests.k8s.harness import eventually, eventually_async, fast_settings, running_sink
from tests.k8s.samples import intent, workload_entry
from tests.support.kube import KubeCluster

pytestmark = [pytest.mark.k8s, pytest.mark.anyio]


def make_running_pod(cluster: KubeCluster, ns: str, name: str, ip: str, account: str) -> None:
    core = client.CoreV1Api(cluster.api)
    core.create_namespaced_pod(
        ns,
        {
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {
                "serviceAccountName": account,
                "containers": [{"name": "main", "image": "example.invalid/provider:1"}],
            },
        },
    )
    # No kubelet here: report the pod Running at ``ip`` the way a kubelet would.
    core.patch_namespaced_pod_status(
        name, ns, {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}
    )


async def test_workload_entries_take_the_pods_service_account(
    kube_apiserver: KubeCluster,
) -> None:
    ns, kubeconfig = kube_apiserver.new_namespace("pods", pod_lookup=True)
    await anyio.to_thread.run_sync(
        make_running_pod, kube_apiserver, ns, "provider-0", "10.40.0.1", "orders-sa"
    )
    objs = [
        workload_entry("known", "10.40.0.1", account="admin-forged"),
        workload_entry("unknown", "10.40.0.2", account="admin-forged"),
    ]
    settings = fast_settings(ns, kubeconfig, pod_lookup=True, pod_lookup_ttl=0.5)
    async with running_sink(settings) as sink:
        sink.publish(intent(*objs))
        await sink.settle()
        wes = kube_apiserver.objects("WorkloadEntry", ns)
        assert wes["known"]["spec"]["serviceAccount"] == "orders-sa"
        assert "serviceAccount" not in wes["unknown"]["spec"]
        # A pod appearing later is picked up without any new intent.
        await anyio.to_thread.run_sync(
            make_running_pod, kube_apiserver, ns, "provider-1", "10.40.0.2", "payments-sa"
        )
        await eventually_async(
            lambda: (
                kube_apiserver.objects("WorkloadEntry", ns)["unknown"]["spec"].get("serviceAccount")
                == "payments-sa"
            ),
            what="late pod",
        )


async def test_pod_lookup_without_the_grant_is_reported(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    ns, kubeconfig = kube_namespace
    async with running_sink(fast_settings(ns, kubeconfig, pod_lookup=True)) as sink:
        await eventually(lambda: sink.observer.problems, what="a problem report")
        message = sink.observer.problems[-1]
        assert message is not None
        assert "list pods" in message
        assert "serviceentries" not in message  # everything else is granted
