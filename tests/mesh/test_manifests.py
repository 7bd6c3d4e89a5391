"""Manifests: Istio's camelCase JSON, empty fields omitted."""

from __future__ import annotations

from dubbomesh.mesh.intent import Kind
from dubbomesh.mesh.manifests import to_manifest
from dubbomesh.mesh.render import render
from dubbomesh.mesh.settings import EndpointMode, MeshSettings
from tests.mesh.factories import catalog, ep


def test_inline_service_entry_manifest() -> None:
    intent = render(
        catalog(ep("com.foo.G", "10.0.0.1", proto="tri", port=50052, weight=7)),
        MeshSettings(namespace="mesh", export_to=("*",)),
    )
    (obj,) = [o for o in intent.of_kind(Kind.SERVICE_ENTRY) if o.name == "com-foo-g-dubbo"]
    assert to_manifest(obj) == {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {
            "name": "com-foo-g-dubbo",
            "namespace": "mesh",
            "labels": {"app.kubernetes.io/managed-by": "dubbomesh", "dubbomesh.io/registry": "zk"},
            "annotations": {"dubbomesh.io/service-key": "com.foo.G"},
        },
        "spec": {
            "hosts": ["com.foo.g.dubbo"],
            "ports": [{"number": 50051, "protocol": "GRPC", "name": "grpc-tri"}],
            "location": "MESH_INTERNAL",
            "resolution": "STATIC",
            "endpoints": [
                {
                    "address": "10.0.0.1",
                    "ports": {"grpc-tri": 50052},
                    "labels": {"app": "app1"},
                    "weight": 7,
                }
            ],
            "exportTo": ["*"],
        },
    }


def test_workload_entry_and_selector_manifest() -> None:
    intent = render(
        catalog(ep("com.foo.G", "10.0.0.1", proto="tri")),
        MeshSettings(endpoint_mode=EndpointMode.WORKLOAD_ENTRY),
    )
    (se,) = [o for o in intent.of_kind(Kind.SERVICE_ENTRY) if o.name == "com-foo-g-dubbo"]
    (we,) = intent.of_kind(Kind.WORKLOAD_ENTRY)
    se_spec = to_manifest(se, "networking.istio.io/v1alpha3")["spec"]
    assert isinstance(se_spec, dict)
    assert "endpoints" not in se_spec
    selector = se_spec["workloadSelector"]["labels"]
    we_doc = to_manifest(we)
    assert we_doc["kind"] == "WorkloadEntry"
    spec = we_doc["spec"]
    assert isinstance(spec, dict)
    assert spec["address"] == "10.0.0.1"
    assert spec["ports"] == {"grpc-tri": 50051}
    assert selector.items() <= spec["labels"].items()


def test_per_workload_entry_manifest_of_a_tri_provider() -> None:
    """The entry that lets a sidecar capture ``10.0.0.1:50052``: the provider IP as address, the
    real port with its Istio protocol, one inline endpoint."""
    intent = render(
        catalog(ep("com.foo.G", "10.0.0.1", proto="tri", port=50052, weight=7)),
        MeshSettings(namespace="mesh"),
    )
    (obj,) = [o for o in intent.of_kind(Kind.SERVICE_ENTRY) if o.name != "com-foo-g-dubbo"]
    assert to_manifest(obj) == {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {
            "name": "10-0-0-1-app1-workload-dubbo",
            "namespace": "mesh",
            "labels": {"app.kubernetes.io/managed-by": "dubbomesh", "dubbomesh.io/registry": "zk"},
            "annotations": {"dubbomesh.io/address": "10.0.0.1"},
        },
        "spec": {
            "hosts": ["10-0-0-1.app1.workload.dubbo"],
            "addresses": ["10.0.0.1"],
            "ports": [{"number": 50052, "protocol": "GRPC", "name": "grpc-tri-50052"}],
            "location": "MESH_INTERNAL",
            "resolution": "STATIC",
            "endpoints": [
                {
                    "address": "10.0.0.1",
                    "ports": {"grpc-tri-50052": 50052},
                    "labels": {"app": "app1"},
                }
            ],
        },
    }
