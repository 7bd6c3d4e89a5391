"""Reference encodings built with the generated protobuf classes, to check the hand encoders."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from envoy.config.core.v3 import address_pb2, base_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from google.protobuf import any_pb2, wrappers_pb2

from dubbomesh.mesh.intent import (
    Kind,
    Location,
    MeshObject,
    PortSpec,
    Resolution,
    ServiceEntrySpec,
    WorkloadSpec,
)
from dubbomesh.xds.envoy import endpoint_port
from dubbomesh.xds.gen import istio_mcp_pb2, istio_networking_pb2
from dubbomesh.xds.types import MCP_RESOURCE_TYPE, SERVICE_ENTRY_BODY, WORKLOAD_ENTRY_BODY

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


def workload_message(spec: WorkloadSpec) -> istio_networking_pb2.WorkloadEntry:
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


def mcp_resource(obj: MeshObject) -> istio_mcp_pb2.Resource:
    """The MCP Resource the way the generated classes build it."""
    if obj.kind is Kind.SERVICE_ENTRY:
        assert isinstance(obj.spec, ServiceEntrySpec)
        payload = service_entry_message(obj.spec).SerializeToString(deterministic=True)
        body = any_pb2.Any(type_url=SERVICE_ENTRY_BODY, value=payload)
    else:
        assert isinstance(obj.spec, WorkloadSpec)
        payload = workload_message(obj.spec).SerializeToString(deterministic=True)
        body = any_pb2.Any(type_url=WORKLOAD_ENTRY_BODY, value=payload)
    resource = istio_mcp_pb2.Resource()
    meta = resource.metadata
    meta.name = obj.key
    meta.version = obj.version
    for key, value in obj.labels:
        meta.labels[key] = value
    for key, value in obj.annotations:
        meta.annotations[key] = value
    resource.body.CopyFrom(body)
    return resource


def mcp_any_bytes(obj: MeshObject) -> bytes:
    """What ``encode_mcp(obj).any_bytes`` must equal."""
    packed = any_pb2.Any(
        type_url=MCP_RESOURCE_TYPE,
        value=mcp_resource(obj).SerializeToString(deterministic=True),
    )
    return packed.SerializeToString(deterministic=True)


def load_assignment(
    name: str, port: PortSpec, workloads: Sequence[WorkloadSpec]
) -> endpoint_pb2.ClusterLoadAssignment:
    """The ClusterLoadAssignment built with the generated classes (the previous encoder)."""
    by_locality: dict[str, list[endpoint_components_pb2.LbEndpoint]] = {}
    weights: dict[str, int] = {}
    for workload in sorted(
        workloads, key=lambda w: (w.locality, w.address, endpoint_port(w, port))
    ):
        try:
            ipaddress.ip_address(workload.address)
        except ValueError:
            continue
        weight = max(workload.weight, 1)
        lb = endpoint_components_pb2.LbEndpoint(
            endpoint=endpoint_components_pb2.Endpoint(
                address=address_pb2.Address(
                    socket_address=address_pb2.SocketAddress(
                        address=workload.address, port_value=endpoint_port(workload, port)
                    )
                )
            ),
            load_balancing_weight=wrappers_pb2.UInt32Value(value=weight),
        )
        by_locality.setdefault(workload.locality, []).append(lb)
        weights[workload.locality] = weights.get(workload.locality, 0) + weight
    cla = endpoint_pb2.ClusterLoadAssignment(cluster_name=name)
    for locality, lbs in by_locality.items():
        parts = [*locality.split("/", 2), "", "", ""][:3] if locality else ["", "", ""]
        cla.endpoints.append(
            endpoint_components_pb2.LocalityLbEndpoints(
                locality=base_pb2.Locality(region=parts[0], zone=parts[1], sub_zone=parts[2]),
                lb_endpoints=lbs,
                load_balancing_weight=wrappers_pb2.UInt32Value(value=weights[locality]),
            )
        )
    return cla
