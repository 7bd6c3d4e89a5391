"""Encodings: hand-framed responses parse with the real classes; MCP and Envoy resource shapes."""

from __future__ import annotations

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2
from hypothesis import given
from hypothesis import strategies as st

from dubbomesh.mesh.intent import Kind, MeshObject, PortSpec, ServiceEntrySpec, WorkloadSpec
from dubbomesh.xds.envoy import envoy_resources
from dubbomesh.xds.mcp import encode_mcp
from dubbomesh.xds.types import ResourceType
from dubbomesh.xds.wire import Encoded, delta_response, sotw_response
from tests.xds.helpers import unpack_mcp, workload_entry

text = st.text(min_size=1, max_size=40)


@given(
    version=st.text(max_size=20),
    nonce=st.text(max_size=10),
    items=st.lists(st.tuples(text, text, st.binary(max_size=300)), max_size=5),
    removed=st.lists(text, max_size=3),
)
def test_framed_responses_parse_back(
    version: str, nonce: str, items: list[tuple[str, str, bytes]], removed: list[str]
) -> None:
    encoded = [
        Encoded(n, v, any_pb2.Any(type_url="t/x", value=b).SerializeToString()) for n, v, b in items
    ]
    sotw = discovery_pb2.DiscoveryResponse.FromString(sotw_response(version, "t/x", nonce, encoded))
    assert (sotw.version_info, sotw.type_url, sotw.nonce) == (version, "t/x", nonce)
    assert [r.value for r in sotw.resources] == [b for _, _, b in items]
    delta = discovery_pb2.DeltaDiscoveryResponse.FromString(
        delta_response(version, "t/x", nonce, encoded, removed)
    )
    assert [(r.name, r.version, r.resource.value) for r in delta.resources] == items
    assert list(delta.removed_resources) == removed
    assert delta.system_version_info == version


def test_mcp_workload_entry_body_and_metadata() -> None:
    obj = workload_entry("greeter-10-0-0-1", "10.0.0.1", {"app": "greeter"})
    res, body = unpack_mcp(any_pb2.Any.FromString(encode_mcp(obj).any_bytes))
    assert res.metadata.name == "dubbo/greeter-10-0-0-1"
    assert res.metadata.version == obj.version
    assert res.body.type_url == "type.googleapis.com/istio.networking.v1alpha3.WorkloadEntry"
    assert body.address == "10.0.0.1"  # type: ignore[attr-defined]
    assert dict(body.labels) == {"app": "greeter"}  # type: ignore[attr-defined]


def spec(workloads: tuple[WorkloadSpec, ...], protocol: str = "GRPC") -> ServiceEntrySpec:
    return ServiceEntrySpec(
        hosts=("greeter.dubbo.mesh",),
        ports=(PortSpec(50051, protocol, "grpc-tri", target_port=0),),
        endpoints=workloads,
    )


def by_type(resources: list[tuple[ResourceType, Encoded]]) -> dict[ResourceType, Encoded]:
    return {rt: r for rt, r in resources}


def test_envoy_resources_for_a_grpc_port() -> None:
    workloads = (
        WorkloadSpec("10.0.0.1", ports=(("grpc-tri", 50052),), weight=100, locality="r1/z1"),
        WorkloadSpec("10.0.0.2", weight=0, locality="r1/z1"),  # no port entry: service port
        WorkloadSpec("10.0.0.3", weight=50, locality="r2/z9/s"),
        WorkloadSpec("greeter.example.com", weight=10),  # not an IP literal: skipped
    )
    out = by_type(envoy_resources(spec(workloads), workloads))
    assert set(out) == {
        ResourceType.CLUSTER,
        ResourceType.ENDPOINT,
        ResourceType.LISTENER,
        ResourceType.ROUTE,
    }
    name = "outbound|50051||greeter.dubbo.mesh"

    cluster = cluster_pb2.Cluster()
    any_pb2.Any.FromString(out[ResourceType.CLUSTER].any_bytes).Unpack(cluster)
    assert cluster.name == name
    assert cluster.type == cluster_pb2.Cluster.EDS
    assert cluster.eds_cluster_config.eds_config.HasField("ads")
    assert cluster.lb_policy == cluster_pb2.Cluster.ROUND_ROBIN

    cla = endpoint_pb2.ClusterLoadAssignment()
    any_pb2.Any.FromString(out[ResourceType.ENDPOINT].any_bytes).Unpack(cla)
    got = {
        (loc.locality.region, loc.locality.zone, loc.locality.sub_zone): (
            loc.load_balancing_weight.value,
            [
                (
                    e.endpoint.address.socket_address.address,
                    e.endpoint.address.socket_address.port_value,
                    e.load_balancing_weight.value,
                )
                for e in loc.lb_endpoints
            ],
        )
        for loc in cla.endpoints
    }
    assert got == {
        ("r1", "z1", ""): (101, [("10.0.0.1", 50052, 100), ("10.0.0.2", 50051, 1)]),
        ("r2", "z9", "s"): (50, [("10.0.0.3", 50051, 50)]),
    }

    listener = listener_pb2.Listener()
    any_pb2.Any.FromString(out[ResourceType.LISTENER].any_bytes).Unpack(listener)
    assert listener.name == "greeter.dubbo.mesh:50051"
    hcm = hcm_pb2.HttpConnectionManager()
    listener.api_listener.api_listener.Unpack(hcm)
    assert hcm.rds.route_config_name == name
    assert hcm.http_filters[-1].typed_config.type_url.endswith("router.v3.Router")

    route = route_pb2.RouteConfiguration()
    any_pb2.Any.FromString(out[ResourceType.ROUTE].any_bytes).Unpack(route)
    assert route.name == name
    assert set(route.virtual_hosts[0].domains) == {"greeter.dubbo.mesh", "greeter.dubbo.mesh:50051"}
    assert route.virtual_hosts[0].routes[0].route.cluster == name


def test_tcp_ports_get_no_listener() -> None:
    out = by_type(envoy_resources(spec((), protocol="TCP"), ()))
    assert set(out) == {ResourceType.CLUSTER, ResourceType.ENDPOINT}


def test_versions_are_content_hashes() -> None:
    w = (WorkloadSpec("10.0.0.1"),)
    first = {rt: r.version for rt, r in envoy_resources(spec(w), w)}
    again = {rt: r.version for rt, r in envoy_resources(spec(w), w)}
    w2 = (WorkloadSpec("10.0.0.2"),)
    moved = {rt: r.version for rt, r in envoy_resources(spec(w2), w2)}
    assert first == again
    assert moved[ResourceType.ENDPOINT] != first[ResourceType.ENDPOINT]
    assert moved[ResourceType.CLUSTER] == first[ResourceType.CLUSTER]


def test_mcp_service_entry_with_selector() -> None:
    se = MeshObject.create(
        Kind.SERVICE_ENTRY,
        "ns",
        "greeter",
        ServiceEntrySpec(
            hosts=("g.mesh",),
            ports=(PortSpec(1, "TCP", "tcp"),),
            workload_selector=(("app", "greeter"),),
        ),
    )
    _, body = unpack_mcp(any_pb2.Any.FromString(encode_mcp(se).any_bytes))
    assert dict(body.workload_selector.labels) == {"app": "greeter"}  # type: ignore[attr-defined]
    assert list(body.endpoints) == []  # type: ignore[attr-defined]
