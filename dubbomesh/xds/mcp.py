"""Encode MeshObjects as istiod's MCP resources (istio.mcp.v1alpha1.Resource in an Any).

Why this module exists: istiod reads an external config source as ``Resource{metadata, body}``
envelopes whose name is exactly ``<namespace>/<name>``, whose version is a stable content hash and
whose body is an Any of ``istio.networking.v1alpha3.ServiceEntry|WorkloadEntry`` -- also when the
requested type URL says ``v1`` (shared/reference/istio-and-xds.md s.1). The MeshObject already
carries all of it; this module writes the protobuf wire format straight from it (``pbenc``: a full
snapshot of 10,000 services is encoded in a fraction of what generated classes cost). Field
numbers are those of ``proto/istio_networking.proto`` and ``proto/istio_mcp.proto``; the tests
check every field against the generated classes.
"""

from __future__ import annotations

from dubbomesh.mesh.intent import (
    Kind,
    Location,
    MeshObject,
    PortSpec,
    Resolution,
    ServiceEntrySpec,
    WorkloadSpec,
)
from dubbomesh.xds.pbenc import (
    FieldRangeError,
    message,
    string,
    string_map,
    strings,
    uint32,
    uint32_map,
)
from dubbomesh.xds.types import MCP_RESOURCE_TYPE, SERVICE_ENTRY_BODY, WORKLOAD_ENTRY_BODY
from dubbomesh.xds.wire import Encoded

_LOCATION = {Location.MESH_EXTERNAL: b"", Location.MESH_INTERNAL: b"\x20\x01"}
"""ServiceEntry.location (4): MESH_EXTERNAL = 0 (omitted), MESH_INTERNAL = 1."""
_RESOLUTION = {
    Resolution.NONE: b"",
    Resolution.STATIC: b"\x28\x01",
    Resolution.DNS: b"\x28\x02",
    Resolution.DNS_ROUND_ROBIN: b"\x28\x03",
}
"""ServiceEntry.resolution (5): NONE = 0 (omitted), STATIC = 1, DNS = 2, DNS_ROUND_ROBIN = 3."""
_SE_URL = string(b"\x0a", SERVICE_ENTRY_BODY)
_WE_URL = string(b"\x0a", WORKLOAD_ENTRY_BODY)
_MCP_URL = string(b"\x0a", MCP_RESOURCE_TYPE)
_ports: dict[tuple[int, str, str, int], bytes] = {}


class EncodeError(ValueError):
    """A MeshObject cannot be encoded (a bug in the renderer, not in the peer)."""


def workload_entry(spec: WorkloadSpec) -> bytes:
    """``istio.networking.v1alpha3.WorkloadEntry``: address=1, ports=2, labels=3, network=4,
    locality=5, weight=6, service_account=7 (the hot loop: one call per endpoint)."""
    parts = []
    if spec.address:
        parts.append(string(b"\x0a", spec.address))
    if spec.ports:
        parts.append(uint32_map(2, spec.ports))
    if spec.labels:
        parts.append(string_map(3, spec.labels))
    if spec.network:
        parts.append(string(b"\x22", spec.network))
    if spec.locality:
        parts.append(string(b"\x2a", spec.locality))
    if spec.weight:
        parts.append(uint32(b"\x30", spec.weight))
    if spec.service_account:
        parts.append(string(b"\x3a", spec.service_account))
    return b"".join(parts)


def _port(port: PortSpec) -> bytes:
    """``ServicePort`` (number=1, protocol=2, name=3, target_port=4) as field 3 of ServiceEntry."""
    memo = (port.number, port.protocol, port.name, port.target_port)
    found = _ports.get(memo)
    if found is None:
        body = (
            uint32(b"\x08", port.number)
            + string(b"\x12", port.protocol)
            + string(b"\x1a", port.name)
            + uint32(b"\x20", port.target_port)
        )
        if len(_ports) >= 4096:
            _ports.clear()
        found = _ports[memo] = message(b"\x1a", body)
    return found


def service_entry(spec: ServiceEntrySpec) -> bytes:
    """``istio.networking.v1alpha3.ServiceEntry``: hosts=1, addresses=2, ports=3, location=4,
    resolution=5, endpoints=6, export_to=7, subject_alt_names=8, workload_selector=9."""
    parts = [
        strings(b"\x0a", spec.hosts),
        strings(b"\x12", spec.addresses) if spec.addresses else b"",
        *map(_port, spec.ports),
        _LOCATION[spec.location],
        _RESOLUTION[spec.resolution],
        *[message(b"\x32", workload_entry(w)) for w in spec.endpoints],
        strings(b"\x3a", spec.export_to) if spec.export_to else b"",
        strings(b"\x42", spec.subject_alt_names) if spec.subject_alt_names else b"",
    ]
    if spec.workload_selector is not None:  # present even when empty (selects every workload)
        parts.append(message(b"\x4a", string_map(1, spec.workload_selector)))
    return b"".join(parts)


def body(obj: MeshObject) -> bytes:
    """The Any body of an MCP resource (type URL always ``istio.networking.v1alpha3.*``)."""
    try:
        if obj.kind is Kind.SERVICE_ENTRY and isinstance(obj.spec, ServiceEntrySpec):
            url, payload = _SE_URL, service_entry(obj.spec)
        elif obj.kind is Kind.WORKLOAD_ENTRY and isinstance(obj.spec, WorkloadSpec):
            url, payload = _WE_URL, workload_entry(obj.spec)
        else:
            raise EncodeError(f"{obj.kind} {obj.key} has a {type(obj.spec).__name__} spec")
        return url + (message(b"\x12", payload) if payload else b"")  # an Any omits b""
    except EncodeError:
        raise
    except (FieldRangeError, UnicodeEncodeError, TypeError, ValueError) as exc:
        raise EncodeError(f"{obj.kind} {obj.key}: {exc}") from exc


def encode_mcp(obj: MeshObject) -> Encoded:
    """The MCP ``Resource`` of one object, packed in an Any, named ``<namespace>/<name>``.

    ``Resource``: metadata=1 (``Metadata``: name=1, version=3, labels=4, annotations=5), body=2.
    """
    key = obj.key
    metadata = b"".join(
        [
            string(b"\x0a", key),
            string(b"\x1a", obj.version),
            string_map(4, obj.labels) if obj.labels else b"",
            string_map(5, obj.annotations) if obj.annotations else b"",
        ]
    )
    resource = message(b"\x0a", metadata) + message(b"\x12", body(obj))
    return Encoded(key, obj.version, _MCP_URL + message(b"\x12", resource))
