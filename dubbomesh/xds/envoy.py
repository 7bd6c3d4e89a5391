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
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2
from google.protobuf import any_pb2, duration_pb2
from google.protobuf import message as pb_message

from dubbomesh.mesh.intent import PortSpec, ServiceEntrySpec, WorkloadSpec
from dubbomesh.xds.pbenc import FieldRangeError, any_message, message, string, strings, uint32
from dubbomesh.xds.types import ANY_PREFIX, ResourceType
from dubbomesh.xds.wire import Encoded, short_hash, varint

GRPC_PROTOCOLS = frozenset({"GRPC", "GRPC-WEB", "HTTP2"})
"""Istio port protocols served over HTTP/2 (Dubbo tri and grpc): these also get LDS/RDS."""

_HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
_ROUTER_FILTER = "envoy.filters.http.router"
_CLUSTER = "envoy.config.cluster.v3.Cluster"
_CLA = "envoy.config.endpoint.v3.ClusterLoadAssignment"
_LISTENER = "envoy.config.listener.v3.Listener"
_ROUTE = "envoy.config.route.v3.RouteConfiguration"

EnvoyResources = list[tuple[ResourceType, Encoded]]


def cluster_name(host: str, port: int) -> str:
    """Istio's outbound cluster (and route) name."""
    return f"outbound|{port}||{host}"


def listener_name(host: str, port: int) -> str:
    """What a gRPC client dials: ``xds:///<host>:<port>``."""
    return f"{host}:{port}"


def _pack(msg: pb_message.Message) -> bytes:
    return any_message(
        ANY_PREFIX + msg.DESCRIPTOR.full_name, msg.SerializeToString(deterministic=True)
    )


# Constant parts, serialized once by the generated classes; the per-name parts are written around
# them (tests compare every resource with one built entirely by the generated classes).
_ADS = config_source_pb2.ConfigSource(
    ads=config_source_pb2.AggregatedConfigSource(),
    resource_api_version=config_source_pb2.ApiVersion.V3,
).SerializeToString(deterministic=True)
"""``ConfigSource``: ADS, API version V3."""
_TIMEOUT_10S = duration_pb2.Duration(seconds=10).SerializeToString()
_H2_OPTIONS = cluster_pb2.Cluster(
    typed_extension_protocol_options={
        _HTTP_OPTIONS: any_pb2.Any.FromString(
            _pack(
                http_protocol_options_pb2.HttpProtocolOptions(
                    explicit_http_config=http_protocol_options_pb2.HttpProtocolOptions.ExplicitHttpConfig(
                        http2_protocol_options=protocol_pb2.Http2ProtocolOptions()
                    )
                )
            )
        )
    }
).SerializeToString(deterministic=True)
"""``Cluster.typed_extension_protocol_options`` (field 36): HTTP/2 upstream."""
_ROUTER = hcm_pb2.HttpConnectionManager(
    http_filters=[
        hcm_pb2.HttpFilter(
            name=_ROUTER_FILTER, typed_config=any_pb2.Any.FromString(_pack(router_pb2.Router()))
        )
    ]
).SerializeToString(deterministic=True)
"""``HttpConnectionManager.http_filters`` (field 5): the router filter alone (so last)."""


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


def cluster(name: str, port: PortSpec) -> bytes:
    """An EDS ``Cluster`` fed over ADS, ROUND_ROBIN (0, omitted); HTTP/2 upstream for gRPC-family
    ports (for Envoy). Fields: name=1, type=2 (EDS=3), eds_cluster_config=3 (eds_config=1,
    service_name=2), connect_timeout=4, typed_extension_protocol_options=36."""
    eds = message(b"\x0a", _ADS) + string(b"\x12", name)
    grpc = port.protocol.upper() in GRPC_PROTOCOLS
    return b"".join(
        [
            string(b"\x0a", name),
            b"\x10\x03",
            message(b"\x1a", eds),
            message(b"\x22", _TIMEOUT_10S),
            _H2_OPTIONS if grpc else b"",
        ]
    )


def api_listener(name: str, route: str) -> bytes:
    """A client-side ``Listener`` (name=1, api_listener=19 -> ApiListener.api_listener=1, an Any
    of HttpConnectionManager: stat_prefix=2, rds=3 (config_source=1, route_config_name=2),
    http_filters=5 with the router filter last)."""
    rds = message(b"\x0a", _ADS) + string(b"\x12", route)
    hcm = string(b"\x12", name) + message(b"\x1a", rds) + _ROUTER
    api = message(b"\x0a", any_message(ANY_PREFIX + _HCM, hcm))
    return string(b"\x0a", name) + message(b"\x9a\x01", api)


def route_configuration(name: str, host: str, port: int) -> bytes:
    """One virtual host matching ``host`` and ``host:port``; every path to the cluster.

    ``RouteConfiguration``: name=1, virtual_hosts=2 (``VirtualHost``: name=1, domains=2,
    routes=3 -> ``Route``: match=1 (prefix=1, a oneof member: written although empty), route=2
    (cluster=1))."""
    vhost = listener_name(host, port)
    route = message(b"\x0a", b"\x0a\x00") + message(b"\x12", string(b"\x0a", name))
    body = string(b"\x0a", vhost) + strings(b"\x12", (host, vhost)) + message(b"\x1a", route)
    return string(b"\x0a", name) + message(b"\x12", body)


def _encoded(name: str, type_name: str, payload: bytes) -> Encoded:
    data = any_message(ANY_PREFIX + type_name, payload)
    return Encoded(name, short_hash(data), data)


def envoy_resources(spec: ServiceEntrySpec, workloads: Sequence[WorkloadSpec]) -> EnvoyResources:
    """Every Envoy resource of one ServiceEntry, given the workloads that back it."""
    out: EnvoyResources = []
    for host in spec.hosts:
        for port in spec.ports:
            name = cluster_name(host, port.number)
            out.append((ResourceType.CLUSTER, _encoded(name, _CLUSTER, cluster(name, port))))
            cla = load_assignment_bytes(name, port, workloads)
            out.append((ResourceType.ENDPOINT, _encoded(name, _CLA, cla)))
            if port.protocol.upper() in GRPC_PROTOCOLS:
                lname = listener_name(host, port.number)
                listener = api_listener(lname, name)
                out.append((ResourceType.LISTENER, _encoded(lname, _LISTENER, listener)))
                route = route_configuration(name, host, port.number)
                out.append((ResourceType.ROUTE, _encoded(name, _ROUTE, route)))
    return out
