"""Desired Kubernetes manifests from mesh objects, ownership, and the no-op comparison.

Why this module exists: "identical desired and observed objects cause ZERO writes" is decided here,
purely. Each desired manifest carries the ownership labels and a content hash annotation; an
observed object is equal when its annotation matches AND its spec, labels and annotations still
hold what we want (so a hand edit that kept the annotation is still detected and repaired).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dubbomesh.k8s.settings import K8sSettings
from dubbomesh.mesh.intent import MeshObject, WorkloadSpec
from dubbomesh.mesh.manifests import spec_dict

Json = dict[str, Any]
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "dubbomesh"
REGISTRY = "dubbomesh.io/registry"
CONTENT_VERSION = "dubbomesh.io/content-version"


@dataclass(frozen=True, slots=True)
class PodIdentity:
    """What the API server (not the provider) says about the pod owning an IP."""

    namespace: str
    name: str
    service_account: str
    labels: tuple[tuple[str, str], ...] = ()


def _trust(workload: Json, identities: Mapping[str, PodIdentity]) -> None:
    """Pod lookup on: only the pod's identity is trusted, never the provider's claim."""
    pod = identities.get(str(workload.get("address", "")))
    if pod is not None and pod.service_account:
        workload["serviceAccount"] = pod.service_account
    else:
        workload.pop("serviceAccount", None)


def spec_of(obj: MeshObject, identities: Mapping[str, PodIdentity] | None = None) -> Json:
    """The camelCase ``spec`` (the mesh encoder's, shared with the file sink), with pod identities
    applied to the WorkloadEntry or to each inline endpoint when pod lookup is on."""
    spec: Json = dict(spec_dict(obj))
    if identities is not None:
        if isinstance(obj.spec, WorkloadSpec):
            _trust(spec, identities)
        else:
            for endpoint in spec.get("endpoints", []):
                _trust(endpoint, identities)
    return spec


def content_version(manifest: Json) -> str:
    """Hash of a canonical JSON of the manifest (without the content-version annotation)."""
    meta = dict(manifest.get("metadata", {}))
    annotations = {k: v for k, v in meta.get("annotations", {}).items() if k != CONTENT_VERSION}
    meta["annotations"] = annotations
    canon = json.dumps({**manifest, "metadata": meta}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:32]


def desired_manifest(
    obj: MeshObject,
    settings: K8sSettings,
    *,
    identities: Mapping[str, PodIdentity] | None = None,
) -> Json:
    """The apply configuration for one object, placed in the agent's namespace."""
    labels = dict(obj.labels)
    labels[MANAGED_BY] = MANAGED_BY_VALUE
    labels[REGISTRY] = settings.registry_name
    manifest: Json = {
        "apiVersion": f"networking.istio.io/{settings.api_version}",
        "kind": obj.kind.value,
        "metadata": {
            "name": obj.name,
            "namespace": settings.namespace,
            "labels": labels,
            "annotations": dict(obj.annotations),
        },
        "spec": spec_of(obj, identities),
    }
    manifest["metadata"]["annotations"][CONTENT_VERSION] = content_version(manifest)
    return manifest


def is_owned(obj: Json, registry_name: str) -> bool:
    """Whether an observed object carries OUR ownership labels (managed-by and registry).

    Removing either label hands the object over to whoever removed it: dubbomesh then never
    touches it again (and reports the name as taken).
    """
    labels = obj.get("metadata", {}).get("labels") or {}
    return bool(
        labels.get(MANAGED_BY) == MANAGED_BY_VALUE and labels.get(REGISTRY) == registry_name
    )


def difference(desired: Json, observed: Json) -> str | None:
    """None when ``observed`` already is what we want, else a short reason (for logs/metrics)."""
    d_meta, o_meta = desired["metadata"], observed.get("metadata", {})
    o_ann = o_meta.get("annotations") or {}
    if o_ann.get(CONTENT_VERSION) != d_meta["annotations"][CONTENT_VERSION]:
        return "content-version"
    if observed.get("spec") != desired["spec"]:
        return "spec"
    o_labels = o_meta.get("labels") or {}
    if any(o_labels.get(k) != v for k, v in d_meta["labels"].items()):
        return "labels"
    if any(o_ann.get(k) != v for k, v in d_meta["annotations"].items()):
        return "annotations"
    return None
