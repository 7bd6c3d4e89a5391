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
from envoy.config.core.v3 import config_source_pb2, protocol_pb2
from envoy.config.listener.v3 import api_listener_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2
from google.protobuf import any_pb2, duration_pb2
from google.protobuf import message as pb_message

from dubbomesh.mesh.intent import PortSpec, ServiceEntrySpec, WorkloadSpec
from dubbomesh.xds.pbenc import FieldRangeError, any_message, message, string, uint32
from dubbomesh.xds.types import ANY_PREFIX, ResourceType
from dubbomesh.xds.wire import Encoded, short_hash, varint

GRPC_PROTOCOLS = frozenset({"GRPC", "GRPC-WEB", "HTTP2"})
"""Istio port protocols served over HTTP/2 (Dubbo tri and grpc): these also get LDS/RDS."""

_HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
_ROUTER_FILTER = "envoy.filters.http.router"
_CLA = ANY_PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment"

EnvoyResources = list[tuple[ResourceType, Encoded]]


def cluster_name(host: str, port: int) -> str:
    """Istio's outbound cluster (and route) name."""
    return f"outbound|{port}||{host}"


def listener_name(host: str, port: int) -> str:
    """What a gRPC client dials: ``xds:///<host>:<port>``."""
    return f"{host}:{port}"


def _pack(msg: pb_message.Message) -> any_pb2.Any:
    return any_pb2.Any(
        type_url=ANY_PREFIX + msg.DESCRIPTOR.full_name,
        value=msg.SerializeToString(deterministic=True),
    )


def _encode(name: str, msg: pb_message.Message) -> Encoded:
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


_ip_memo: dict[str, bool] = {}


def is_ip(address: str) -> bool:
    """True for an IPv4 or IPv6 literal (memoized: endpoints are re-encoded on every change)."""
    found = _ip_memo.get(address)
    if found is None:
        try:
            ipaddress.ip_address(address)
            found = True
        except ValueError:
            found = False
        if len(_ip_memo) >= 1 << 16:
            _ip_memo.clear()
        _ip_memo[address] = found
    return found


def _locality(text: str) -> bytes:
    """``envoy.config.core.v3.Locality``: region=1, zone=2, sub_zone=3 (``region/zone/sub``)."""
    parts = [*text.split("/", 2), "", "", ""][:3] if text else ["", "", ""]
    return string(b"\x0a", parts[0]) + string(b"\x12", parts[1]) + string(b"\x1a", parts[2])


def load_assignment_bytes(name: str, port: PortSpec, workloads: Sequence[WorkloadSpec]) -> bytes:
    """``ClusterLoadAssignment`` (cluster_name=1, endpoints=2), written directly.

    Endpoints are grouped by locality (``LocalityLbEndpoints``: locality=1, lb_endpoints=2,
    load_balancing_weight=3); endpoint weight = Dubbo weight (minimum 1), locality weight = their
    sum. An ``LbEndpoint`` is endpoint=1 (``Endpoint.address`` = 1, ``Address.socket_address`` =
    1, ``SocketAddress``: address=2, port_value=3) and load_balancing_weight=4. Only IP literals
    are usable by EDS clients; other addresses are skipped. Raises ``FieldRangeError`` (a
    ValueError) for numbers that do not fit, as the generated classes do.
    """
    groups: dict[str, list[bytes]] = {}
    weights: dict[str, int] = {}
    for workload in sorted(
        workloads, key=lambda w: (w.locality, w.address, endpoint_port(w, port))
    ):
        if not is_ip(workload.address):
            continue
        weight = max(workload.weight, 1)
        number = endpoint_port(workload, port)
        if not 0 <= number < 1 << 32:
            raise FieldRangeError(f"port {number} does not fit port_value")
        # port_value is a oneof member: written even when 0
        socket = string(b"\x12", workload.address) + b"\x18" + varint(number)
        endpoint = message(b"\x0a", message(b"\x0a", message(b"\x0a", socket)))
        lb = endpoint + message(b"\x22", uint32(b"\x08", weight))
        groups.setdefault(workload.locality, []).append(message(b"\x12", lb))
        weights[workload.locality] = weights.get(workload.locality, 0) + weight
    out = [string(b"\x0a", name)]
    for locality, lbs in groups.items():
        body = b"".join(
            [
                message(b"\x0a", _locality(locality)),
                *lbs,
                message(b"\x1a", uint32(b"\x08", weights[locality])),
            ]
        )
        out.append(message(b"\x12", body))
    return b"".join(out)


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
            data = any_message(_CLA, load_assignment_bytes(name, port, workloads))
            out.append((ResourceType.ENDPOINT, Encoded(name, short_hash(data), data)))
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
