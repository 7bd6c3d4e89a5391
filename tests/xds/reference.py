"""Reference encodings built with the generated protobuf classes, to check the hand encoders."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import address_pb2, base_pb2, config_source_pb2, protocol_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.config.listener.v3 import api_listener_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2
from google.protobuf import any_pb2, duration_pb2, message, wrappers_pb2

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


def _ads() -> config_source_pb2.ConfigSource:
    return config_source_pb2.ConfigSource(
        ads=config_source_pb2.AggregatedConfigSource(),
        resource_api_version=config_source_pb2.ApiVersion.V3,
    )


def pack(msg: message.Message) -> any_pb2.Any:
    return any_pb2.Any(
        type_url="type.googleapis.com/" + msg.DESCRIPTOR.full_name,
        value=msg.SerializeToString(deterministic=True),
    )


def cluster(name: str, port: PortSpec) -> cluster_pb2.Cluster:
    msg = cluster_pb2.Cluster(
        name=name,
        type=cluster_pb2.Cluster.EDS,
        eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(
            eds_config=_ads(), service_name=name
        ),
        lb_policy=cluster_pb2.Cluster.ROUND_ROBIN,
        connect_timeout=duration_pb2.Duration(seconds=10),
    )
    if port.protocol.upper() in ("GRPC", "GRPC-WEB", "HTTP2"):
        options = http_protocol_options_pb2.HttpProtocolOptions(
            explicit_http_config=http_protocol_options_pb2.HttpProtocolOptions.ExplicitHttpConfig(
                http2_protocol_options=protocol_pb2.Http2ProtocolOptions()
            )
        )
        msg.typed_extension_protocol_options[
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        ].CopyFrom(pack(options))
    return msg


def api_listener(name: str, route: str) -> listener_pb2.Listener:
    hcm = hcm_pb2.HttpConnectionManager(
        stat_prefix=name,
        rds=hcm_pb2.Rds(config_source=_ads(), route_config_name=route),
        http_filters=[
            hcm_pb2.HttpFilter(
                name="envoy.filters.http.router", typed_config=pack(router_pb2.Router())
            )
        ],
    )
    return listener_pb2.Listener(
        name=name, api_listener=api_listener_pb2.ApiListener(api_listener=pack(hcm))
    )


def route_configuration(name: str, host: str, port: int) -> route_pb2.RouteConfiguration:
    vhost = f"{host}:{port}"
    return route_pb2.RouteConfiguration(
        name=name,
        virtual_hosts=[
            route_components_pb2.VirtualHost(
                name=vhost,
                domains=[host, vhost],
                routes=[
                    route_components_pb2.Route(
                        match=route_components_pb2.RouteMatch(prefix=""),
                        route=route_components_pb2.RouteAction(cluster=name),
                    )
                ],
            )
        ],
    )
