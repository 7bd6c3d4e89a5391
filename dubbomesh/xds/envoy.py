"""Envoy resources for one ServiceEntry: Cluster + ClusterLoadAssignment per host and port, and for
gRPC-capable ports a Listener (api_listener) + RouteConfiguration that a proxyless grpcio client
dialling ``xds:///<host>:<port>`` follows.

Why this module exists: local Envoys and proxyless gRPC/Dubbo clients read Envoy types, not Istio
ones. Names follow Istio (listener ``<host>:<port>``, route and cluster ``outbound|<port>||<host>``)
so Dubbo's own xDS consumer and gRPC clients configured for Istio find them. The requirements of
gRPC's client (router filter last, localities with a weight, IP-literal endpoints, EDS clusters with
an ADS config source and ROUND_ROBIN) are in shared/reference/istio-and-xds.md s.3.
"""

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

from dubbomesh.mesh.intent import PortSpec, ServiceEntrySpec, WorkloadSpec
from dubbomesh.xds.types import ANY_PREFIX, ResourceType
from dubbomesh.xds.wire import Encoded, short_hash

GRPC_PROTOCOLS = frozenset({"GRPC", "GRPC-WEB", "HTTP2"})
"""Istio port protocols served over HTTP/2 (Dubbo tri and grpc): these also get LDS/RDS."""

_HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
_ROUTER_FILTER = "envoy.filters.http.router"

EnvoyResources = list[tuple[ResourceType, Encoded]]


def cluster_name(host: str, port: int) -> str:
    """Istio's outbound cluster (and route) name."""
    return f"outbound|{port}||{host}"


def listener_name(host: str, port: int) -> str:
    """What a gRPC client dials: ``xds:///<host>:<port>``."""
    return f"{host}:{port}"


def _pack(msg: message.Message) -> any_pb2.Any:
    return any_pb2.Any(
        type_url=ANY_PREFIX + msg.DESCRIPTOR.full_name,
        value=msg.SerializeToString(deterministic=True),
    )


def _encode(name: str, msg: message.Message) -> Encoded:
    data = _pack(msg).SerializeToString(deterministic=True)
    return Encoded(name, short_hash(data), data)


def _ads() -> config_source_pb2.ConfigSource:
    return config_source_pb2.ConfigSource(
        ads=config_source_pb2.AggregatedConfigSource(),
        resource_api_version=config_source_pb2.ApiVersion.V3,
    )


def endpoint_port(workload: WorkloadSpec, port: PortSpec) -> int:
    """Istio's rule: the workload's port for this port name, else target_port, else the number."""
    for name, number in workload.ports:
        if name == port.name:
            return int(number)
    return port.target_port or port.number


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _locality(text: str) -> base_pb2.Locality:
    parts = [*text.split("/", 2), "", "", ""][:3] if text else ["", "", ""]
    return base_pb2.Locality(region=parts[0], zone=parts[1], sub_zone=parts[2])


def load_assignment(
    name: str, port: PortSpec, workloads: Sequence[WorkloadSpec]
) -> endpoint_pb2.ClusterLoadAssignment:
    """Endpoints grouped by locality; endpoint weight = Dubbo weight, locality weight = their sum.

    Only IP literals are usable by EDS clients; other addresses are skipped.
    """
    by_locality: dict[str, list[endpoint_components_pb2.LbEndpoint]] = {}
    weights: dict[str, int] = {}
    for workload in sorted(
        workloads, key=lambda w: (w.locality, w.address, endpoint_port(w, port))
    ):
        if not _is_ip(workload.address):
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
        cla.endpoints.append(
            endpoint_components_pb2.LocalityLbEndpoints(
                locality=_locality(locality),
                lb_endpoints=lbs,
                load_balancing_weight=wrappers_pb2.UInt32Value(value=weights[locality]),
            )
        )
    return cla


def cluster(name: str, port: PortSpec) -> cluster_pb2.Cluster:
    """An EDS cluster fed over ADS; HTTP/2 upstream for gRPC-family ports (for Envoy)."""
    msg = cluster_pb2.Cluster(
        name=name,
        type=cluster_pb2.Cluster.EDS,
        eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(
            eds_config=_ads(), service_name=name
        ),
        lb_policy=cluster_pb2.Cluster.ROUND_ROBIN,
        connect_timeout=duration_pb2.Duration(seconds=10),
    )
    if port.protocol.upper() in GRPC_PROTOCOLS:
        options = http_protocol_options_pb2.HttpProtocolOptions(
            explicit_http_config=http_protocol_options_pb2.HttpProtocolOptions.ExplicitHttpConfig(
                http2_protocol_options=protocol_pb2.Http2ProtocolOptions()
            )
        )
        msg.typed_extension_protocol_options[_HTTP_OPTIONS].CopyFrom(_pack(options))
    return msg


def api_listener(name: str, route: str) -> listener_pb2.Listener:
    """A client-side listener: HCM with RDS over ADS, router filter last."""
    hcm = hcm_pb2.HttpConnectionManager(
        stat_prefix=name,
        rds=hcm_pb2.Rds(config_source=_ads(), route_config_name=route),
        http_filters=[
            hcm_pb2.HttpFilter(name=_ROUTER_FILTER, typed_config=_pack(router_pb2.Router()))
        ],
    )
    return listener_pb2.Listener(
        name=name, api_listener=api_listener_pb2.ApiListener(api_listener=_pack(hcm))
    )


def route_configuration(name: str, host: str, port: int) -> route_pb2.RouteConfiguration:
    """One virtual host matching ``host`` and ``host:port``; every path to the cluster."""
    return route_pb2.RouteConfiguration(
        name=name,
        virtual_hosts=[
            route_components_pb2.VirtualHost(
                name=listener_name(host, port),
                domains=[host, listener_name(host, port)],
                routes=[
                    route_components_pb2.Route(
                        match=route_components_pb2.RouteMatch(prefix=""),
                        route=route_components_pb2.RouteAction(cluster=name),
                    )
                ],
            )
        ],
    )


def envoy_resources(spec: ServiceEntrySpec, workloads: Sequence[WorkloadSpec]) -> EnvoyResources:
    """Every Envoy resource of one ServiceEntry, given the workloads that back it."""
    out: EnvoyResources = []
    for host in spec.hosts:
        for port in spec.ports:
            name = cluster_name(host, port.number)
            out.append((ResourceType.CLUSTER, _encode(name, cluster(name, port))))
            out.append(
                (ResourceType.ENDPOINT, _encode(name, load_assignment(name, port, workloads)))
            )
            if port.protocol.upper() in GRPC_PROTOCOLS:
                lname = listener_name(host, port.number)
                out.append((ResourceType.LISTENER, _encode(lname, api_listener(lname, name))))
                out.append(
                    (
                        ResourceType.ROUTE,
                        _encode(name, route_configuration(name, host, port.number)),
                    )
                )
    return out
