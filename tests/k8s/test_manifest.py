"""Manifests: Istio field names, ownership labels, a stable content hash, trusted identities."""

from __future__ import annotations

from dubbomesh.k8s.manifest import (
    CONTENT_VERSION,
    MANAGED_BY,
    REGISTRY,
    PodIdentity,
    desired_manifest,
    difference,
    is_owned,
)
from dubbomesh.k8s.settings import K8sSettings
from tests.k8s.samples import service_entry, workload_entry

SETTINGS = K8sSettings(namespace="mesh", registry_name="reg1", api_version="v1alpha3")


def test_service_entry_manifest_uses_istio_camel_case_and_our_namespace() -> None:
    m = desired_manifest(service_entry("svc", "10.0.0.1"), SETTINGS)
    assert m["apiVersion"] == "networking.istio.io/v1alpha3"
    assert m["metadata"]["namespace"] == "mesh"
    assert m["metadata"]["labels"][MANAGED_BY] == "dubbomesh"
    assert m["metadata"]["labels"][REGISTRY] == "reg1"
    assert m["spec"] == {
        "hosts": ["svc.dubbo"],
        "addresses": ["10.0.0.1/32"],
        "ports": [{"number": 20880, "protocol": "TCP", "name": "tcp-dubbo"}],
        "location": "MESH_INTERNAL",
        "resolution": "STATIC",
        "endpoints": [
            {"address": "10.0.0.1", "ports": {"tcp-dubbo": 20880}, "labels": {"app": "svc"}}
        ],
    }
    assert is_owned(m, "reg1")
    assert not is_owned(m, "reg2")


def test_content_version_is_stable_and_content_sensitive() -> None:
    a = desired_manifest(service_entry("svc", "10.0.0.1"), SETTINGS)
    b = desired_manifest(service_entry("svc", "10.0.0.1"), SETTINGS)
    c = desired_manifest(service_entry("svc", "10.0.0.2"), SETTINGS)
    va, vc = (
        a["metadata"]["annotations"][CONTENT_VERSION],
        c["metadata"]["annotations"][CONTENT_VERSION],
    )
    assert va == b["metadata"]["annotations"][CONTENT_VERSION]
    assert va != vc
    assert difference(a, b) is None
    assert difference(a, c) == "content-version"


def test_pod_lookup_replaces_provider_given_service_account() -> None:
    obj = workload_entry("w", "10.1.1.1", account="forged-by-provider")
    plain = desired_manifest(obj, SETTINGS)
    assert plain["spec"]["serviceAccount"] == "forged-by-provider"
    pods = {"10.1.1.1": PodIdentity("mesh", "p-1", "real-sa")}
    assert desired_manifest(obj, SETTINGS, identities=pods)["spec"]["serviceAccount"] == "real-sa"
    unknown = desired_manifest(obj, SETTINGS, identities={})
    assert "serviceAccount" not in unknown["spec"]
