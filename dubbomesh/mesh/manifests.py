"""MeshObject -> Kubernetes manifest dict, with the camelCase spec exactly as Istio's JSON.

Why this module exists: the Kubernetes sink, the file sink and the debug page all show the same
objects; one encoder keeps them identical. Empty fields are omitted (Istio's own JSON omits
defaults), enums are their names, ports in endpoint maps are integers.
"""

from __future__ import annotations

from dubbomesh.mesh.intent import (
    MeshObject,
    PortSpec,
    ServiceEntrySpec,
    WorkloadSpec,
)

DEFAULT_API_VERSION = "networking.istio.io/v1"


def _port(port: PortSpec) -> dict[str, object]:
    out: dict[str, object] = {"number": port.number, "protocol": port.protocol, "name": port.name}
    if port.target_port:
        out["targetPort"] = port.target_port
    return out


def workload_dict(w: WorkloadSpec) -> dict[str, object]:
    """``WorkloadEntry`` spec (also an inline ServiceEntry endpoint)."""
    out: dict[str, object] = {"address": w.address}
    if w.ports:
        out["ports"] = {name: int(port) for name, port in w.ports}
    if w.labels:
        out["labels"] = dict(w.labels)
    if w.network:
        out["network"] = w.network
    if w.locality:
        out["locality"] = w.locality
    if w.weight:
        out["weight"] = w.weight
    if w.service_account:
        out["serviceAccount"] = w.service_account
    return out


def service_entry_dict(s: ServiceEntrySpec) -> dict[str, object]:
    """``ServiceEntry`` spec."""
    out: dict[str, object] = {"hosts": list(s.hosts)}
    if s.addresses:
        out["addresses"] = list(s.addresses)
    if s.ports:
        out["ports"] = [_port(p) for p in s.ports]
    out["location"] = s.location.value
    out["resolution"] = s.resolution.value
    if s.endpoints:
        out["endpoints"] = [workload_dict(e) for e in s.endpoints]
    if s.export_to:
        out["exportTo"] = list(s.export_to)
    if s.subject_alt_names:
        out["subjectAltNames"] = list(s.subject_alt_names)
    if s.workload_selector is not None:
        out["workloadSelector"] = {"labels": dict(s.workload_selector)}
    return out


def spec_dict(obj: MeshObject) -> dict[str, object]:
    """The ``spec`` of ``obj`` as Istio's JSON."""
    if isinstance(obj.spec, ServiceEntrySpec):
        return service_entry_dict(obj.spec)
    return workload_dict(obj.spec)


def to_manifest(obj: MeshObject, api_version: str = DEFAULT_API_VERSION) -> dict[str, object]:
    """A complete Kubernetes object (apiVersion, kind, metadata, spec)."""
    metadata: dict[str, object] = {"name": obj.name, "namespace": obj.namespace}
    if obj.labels:
        metadata["labels"] = dict(obj.labels)
    if obj.annotations:
        metadata["annotations"] = dict(obj.annotations)
    return {
        "apiVersion": api_version,
        "kind": obj.kind.value,
        "metadata": metadata,
        "spec": spec_dict(obj),
    }
