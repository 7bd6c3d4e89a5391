"""The sink against the REAL API server, as the restricted ServiceAccount of deploy/rbac.yaml.

Covers: creation, zero writes for identical intents, repair of edits and deletions, deletion after
the grace period only for complete intents, foreign objects untouched, rejected objects reported
while the rest proceeds.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from dubbomesh.k8s.manifest import CONTENT_VERSION
from tests.k8s.harness import eventually, eventually_async, fast_settings, running_sink
from tests.k8s.samples import intent, service_entry, workload_entry
from tests.support.kube import KubeCluster

pytestmark = [pytest.mark.k8s, pytest.mark.anyio]


async def test_applies_once_and_then_writes_nothing(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    ns, kubeconfig = kube_namespace
    objs = [service_entry(f"svc-{i}", f"10.0.0.{i}") for i in range(3)]
    objs.append(workload_entry("we-1", "10.0.1.1"))
    async with running_sink(fast_settings(ns, kubeconfig)) as sink:
        sink.publish(intent(*objs))
        await sink.settle()
        assert sink.observer.writes == {"apply": 4}
        ses = kube_apiserver.objects("ServiceEntry", ns)
        assert sorted(ses) == ["svc-0", "svc-1", "svc-2"]
        assert ses["svc-1"]["spec"]["hosts"] == ["svc-1.dubbo"]
        assert list(kube_apiserver.objects("WorkloadEntry", ns)) == ["we-1"]
        managers = {m["manager"] for m in ses["svc-0"]["metadata"]["managedFields"]}
        assert managers == {"dubbomesh"}
        mutating = sink.observer.write_requests

        # The same content again (a new intent value, e.g. a provider restart): zero writes.
        sink.publish(intent(*objs))
        await sink.settle()
        sink.publish(intent(*reversed(objs)))
        await sink.settle()
        assert sink.observer.write_requests == mutating
        assert sink.observer.noops >= 8

        # One real change: exactly one write.
        objs[0] = service_entry("svc-0", "10.0.0.100")
        sink.publish(intent(*objs))
        await sink.settle()
        assert sink.observer.write_requests == mutating + 1
        hosts = kube_apiserver.objects("ServiceEntry", ns)["svc-0"]["spec"]["endpoints"]
        assert hosts[0]["address"] == "10.0.0.100"


async def test_edits_and_deletions_are_repaired(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    ns, kubeconfig = kube_namespace
    api = kube_apiserver.custom()
    group = ("networking.istio.io", "v1", ns, "serviceentries")
    async with running_sink(fast_settings(ns, kubeconfig)) as sink:
        sink.publish(intent(service_entry("target", "10.0.0.1")))
        await sink.settle()
        want = kube_apiserver.objects("ServiceEntry", ns)["target"]["spec"]

        def spec() -> object:
            return kube_apiserver.objects("ServiceEntry", ns).get("target", {}).get("spec")

        # A hand edit of a field we own (kubectl edit / merge patch by another manager).
        await anyio.to_thread.run_sync(
            lambda: api.patch_namespaced_custom_object(
                *group, "target", {"spec": {"hosts": ["hijacked.example"]}}
            )
        )
        await eventually_async(lambda: spec() == want, what="hosts repaired")

        # A field we never set, added by someone else: removed so the entry is exactly ours.
        await anyio.to_thread.run_sync(
            lambda: api.patch_namespaced_custom_object(
                *group, "target", {"spec": {"exportTo": ["other-ns"]}}
            )
        )
        await eventually_async(lambda: spec() == want, what="foreign field removed")

        # An edit that also forges our content annotation is still detected by the spec check.
        ann = kube_apiserver.objects("ServiceEntry", ns)["target"]["metadata"]["annotations"]
        await anyio.to_thread.run_sync(
            lambda: api.patch_namespaced_custom_object(
                *group,
                "target",
                {"metadata": {"annotations": ann}, "spec": {"resolution": "DNS"}},
            )
        )
        await eventually_async(lambda: spec() == want, what="resolution repaired")

        # Deletion by hand: recreated.
        await anyio.to_thread.run_sync(
            lambda: api.delete_namespaced_custom_object(*group, "target")
        )
        await eventually_async(lambda: spec() == want, what="recreated")
        obj = kube_apiserver.objects("ServiceEntry", ns)["target"]
        assert obj["metadata"]["annotations"][CONTENT_VERSION] == ann[CONTENT_VERSION]


async def test_orphans_deleted_after_grace_and_only_from_complete_intents(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    ns, kubeconfig = kube_namespace
    keep, gone = service_entry("keep", "10.0.0.1"), service_entry("gone", "10.0.0.2")
    async with running_sink(fast_settings(ns, kubeconfig, grace_period=1.0)) as sink:
        sink.publish(intent(keep, gone))
        await sink.settle()
        # The ZooKeeper view is incomplete (session lost / initial listing): never delete.
        sink.publish(intent(keep, complete=False))
        passes = sink.observer.passes
        await eventually(lambda: sink.observer.passes > passes, what="a pass")
        sink.publish(intent(keep, stale=True))
        passes = sink.observer.passes
        await eventually(lambda: sink.observer.passes > passes, what="a pass")
        assert sorted(kube_apiserver.objects("ServiceEntry", ns)) == ["gone", "keep"]
        assert sink.observer.writes.get("delete", 0) == 0
        # Complete again: deleted once the grace period has passed.
        sink.publish(intent(keep))
        await eventually_async(
            lambda: sorted(kube_apiserver.objects("ServiceEntry", ns)) == ["keep"],
            what="orphan deleted",
        )
        assert sink.observer.writes["delete"] == 1


async def test_foreign_objects_are_never_touched(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    ns, kubeconfig = kube_namespace
    api = kube_apiserver.custom()
    for name in ("taken", "bystander"):
        body = {
            "apiVersion": "networking.istio.io/v1",
            "kind": "ServiceEntry",
            "metadata": {"name": name},
            "spec": {"hosts": [f"{name}.foreign"], "resolution": "DNS"},
        }
        await anyio.to_thread.run_sync(
            lambda b=body: api.create_namespaced_custom_object(
                "networking.istio.io", "v1", ns, "serviceentries", b
            )
        )
    before = kube_apiserver.objects("ServiceEntry", ns)
    async with running_sink(fast_settings(ns, kubeconfig, grace_period=0.0)) as sink:
        sink.publish(intent(service_entry("taken", "10.0.0.1"), service_entry("mine", "10.0.0.2")))
        await eventually(lambda: ("ServiceEntry", "taken") in sink.observer.errors, what="error")
        await eventually_async(
            lambda: "mine" in kube_apiserver.objects("ServiceEntry", ns), what="mine applied"
        )
        sink.publish(intent())  # complete and empty: only OUR objects may go
        await eventually_async(
            lambda: "mine" not in kube_apiserver.objects("ServiceEntry", ns), what="mine deleted"
        )
    after = kube_apiserver.objects("ServiceEntry", ns)
    for name in ("taken", "bystander"):
        assert (
            after[name]["metadata"]["resourceVersion"]
            == before[name]["metadata"]["resourceVersion"]
        )
    assert "not own" in sink.observer.errors[("ServiceEntry", "taken")]


async def test_rejected_objects_are_reported_and_the_rest_proceeds(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    ns, kubeconfig = kube_namespace
    bad_name = service_entry("Bad_Name", "10.0.0.1")
    bad_label = service_entry("bad-label", "10.0.0.2", labels=(("app", "x" * 70),))
    good = service_entry("good", "10.0.0.3")
    async with running_sink(fast_settings(ns, kubeconfig)) as sink:
        sink.publish(intent(bad_name, bad_label, good))
        await eventually(lambda: len(sink.observer.errors) == 2, what="two objects reported")
        await eventually_async(
            lambda: list(kube_apiserver.objects("ServiceEntry", ns)) == ["good"], what="good"
        )
        requests = sink.observer.write_requests
        sink.publish(intent(bad_name, bad_label, good))  # same content: not retried
        await eventually(lambda: sink.observer.passes >= 2, what="second pass")
        passes = sink.observer.passes
        sink.publish(intent(bad_name, bad_label, good))
        await eventually(lambda: sink.observer.passes > passes, what="third pass")
        assert sink.observer.write_requests == requests
    assert set(sink.observer.errors) == {
        ("ServiceEntry", "Bad_Name"),
        ("ServiceEntry", "bad-label"),
    }


async def test_watches_are_renewed_and_keep_detecting_edits(
    kube_apiserver: KubeCluster, kube_namespace: tuple[str, Path]
) -> None:
    ns, kubeconfig = kube_namespace
    api = kube_apiserver.custom()
    async with running_sink(fast_settings(ns, kubeconfig, watch_timeout=1)) as sink:
        sink.publish(intent(service_entry("w", "10.0.0.1")))
        await sink.settle()
        gets = sink.observer.requests["GET"]
        # Each server-side watch timeout ends a stream (counted as one GET); wait for several.
        await eventually(lambda: sink.observer.requests["GET"] >= gets + 6, what="watch renewals")
        await anyio.to_thread.run_sync(
            lambda: api.delete_namespaced_custom_object(
                "networking.istio.io", "v1", ns, "serviceentries", "w"
            )
        )
        await eventually_async(
            lambda: "w" in kube_apiserver.objects("ServiceEntry", ns), what="recreated"
        )
        assert sink.observer.problems == []
