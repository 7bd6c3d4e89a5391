"""Encode MeshObjects as istiod's MCP resources (istio.mcp.v1alpha1.Resource in an Any).

Why this module exists: istiod reads an external config source as ``Resource{metadata, body}``
envelopes whose name is exactly ``<namespace>/<name>``, whose version is a stable content hash and
whose body is an Any of ``istio.networking.v1alpha3.ServiceEntry|WorkloadEntry`` -- also when the
requested type URL says ``v1`` (shared/reference/istio-and-xds.md s.1). The MeshObject already
carries all of it; this module only translates plain data into our generated protobuf classes.
"""

from __future__ import annotations

from google.protobuf import any_pb2

from dubbomesh.mesh.intent import (
    Kind,
    Location,
    MeshObject,
    Resolution,
    ServiceEntrySpec,
    WorkloadSpec,
)
from dubbomesh.xds.gen import istio_mcp_pb2, istio_networking_pb2
from dubbomesh.xds.types import MCP_RESOURCE_TYPE, SERVICE_ENTRY_BODY, WORKLOAD_ENTRY_BODY
from dubbomesh.xds.wire import Encoded

net = istio_networking_pb2

_LOCATION = {
    Location.MESH_EXTERNAL: net.ServiceEntry.MESH_EXTERNAL,
    Location.MESH_INTERNAL: net.ServiceEntry.MESH_INTERNAL,
}
_RESOLUTION = {
    Resolution.NONE: net.ServiceEntry.NONE,
    Resolution.STATIC: net.ServiceEntry.STATIC,
    Resolution.DNS: net.ServiceEntry.DNS,
    Resolution.DNS_ROUND_ROBIN: net.ServiceEntry.DNS_ROUND_ROBIN,
}


class EncodeError(ValueError):
    """A MeshObject cannot be encoded (a bug in the renderer, not in the peer)."""


def workload_message(spec: WorkloadSpec) -> istio_networking_pb2.WorkloadEntry:
    """``istio.networking.v1alpha3.WorkloadEntry`` from a :class:`WorkloadSpec`."""
    msg = net.WorkloadEntry(
        address=spec.address,
        network=spec.network,
        locality=spec.locality,
        weight=spec.weight,
        service_account=spec.service_account,
    )
    for name, port in spec.ports:
        msg.ports[name] = int(port)
    for key, value in spec.labels:
        msg.labels[key] = value
    return msg


def service_entry_message(spec: ServiceEntrySpec) -> istio_networking_pb2.ServiceEntry:
    """``istio.networking.v1alpha3.ServiceEntry`` from a :class:`ServiceEntrySpec`."""
    msg = net.ServiceEntry(
        hosts=list(spec.hosts),
        addresses=list(spec.addresses),
        location=_LOCATION[spec.location],
        resolution=_RESOLUTION[spec.resolution],
        export_to=list(spec.export_to),
        subject_alt_names=list(spec.subject_alt_names),
    )
    for port in spec.ports:
        msg.ports.add(
            number=port.number, protocol=port.protocol, name=port.name, target_port=port.target_port
        )
    for endpoint in spec.endpoints:
        msg.endpoints.append(workload_message(endpoint))
    if spec.workload_selector is not None:
        msg.workload_selector.SetInParent()
        for key, value in spec.workload_selector:
            msg.workload_selector.labels[key] = value
    return msg


def body_any(obj: MeshObject) -> any_pb2.Any:
    """The Any body of an MCP resource (type URL always ``istio.networking.v1alpha3.*``)."""
    if obj.kind is Kind.SERVICE_ENTRY and isinstance(obj.spec, ServiceEntrySpec):
        payload = service_entry_message(obj.spec).SerializeToString(deterministic=True)
        return any_pb2.Any(type_url=SERVICE_ENTRY_BODY, value=payload)
    if obj.kind is Kind.WORKLOAD_ENTRY and isinstance(obj.spec, WorkloadSpec):
        payload = workload_message(obj.spec).SerializeToString(deterministic=True)
        return any_pb2.Any(type_url=WORKLOAD_ENTRY_BODY, value=payload)
    raise EncodeError(f"{obj.kind} {obj.key} has a {type(obj.spec).__name__} spec")


def encode_mcp(obj: MeshObject) -> Encoded:
    """The MCP ``Resource`` of one object, packed in an Any, named ``<namespace>/<name>``."""
    resource = istio_mcp_pb2.Resource()
    meta = resource.metadata
    meta.name = obj.key
    meta.version = obj.version
    for key, value in obj.labels:
        meta.labels[key] = value
    for key, value in obj.annotations:
        meta.annotations[key] = value
    resource.body.CopyFrom(body_any(obj))
    packed = any_pb2.Any(
        type_url=MCP_RESOURCE_TYPE, value=resource.SerializeToString(deterministic=True)
    )
    return Encoded(obj.key, obj.version, packed.SerializeToString(deterministic=True))
