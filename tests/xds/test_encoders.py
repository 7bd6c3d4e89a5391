"""The hand-written wire encoders produce exactly the bytes of the generated protobuf classes
(deterministic serialization), for any object the renderer could make."""

from __future__ import annotations

import pytest
from envoy.config.endpoint.v3 import endpoint_pb2
from google.protobuf import any_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from dubbomesh.mesh.intent import (
    Kind,
    Location,
    MeshObject,
    PortSpec,
    Resolution,
    ServiceEntrySpec,
    WorkloadSpec,
)
from dubbomesh.xds.envoy import envoy_resources, load_assignment_bytes
from dubbomesh.xds.gen import istio_networking_pb2
from dubbomesh.xds.mcp import EncodeError, encode_mcp
from dubbomesh.xds.pbenc import string_map
from dubbomesh.xds.types import ResourceType
from tests.xds import reference
from tests.xds.reference import load_assignment, mcp_any_bytes, pack

text = st.text(max_size=12)
u32 = st.integers(0, 2**32 - 1)
pairs = st.lists(st.tuples(text, text), max_size=4).map(lambda p: tuple(sorted(p)))
ports = st.lists(st.tuples(text, st.integers(0, 65535)), max_size=3).map(tuple)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
workloads = st.builds(
    WorkloadSpec,
    address=st.one_of(ipv4, text),
    ports=ports,
    labels=pairs,
    network=text,
    locality=st.one_of(text, st.sampled_from(["r/z", "r/z/s", "r", "a/b/c/d"])),
    weight=u32,
    service_account=text,
)
port_specs = st.builds(PortSpec, number=u32, protocol=text, name=text, target_port=u32)
service_entries = st.builds(
    ServiceEntrySpec,
    hosts=st.lists(text, max_size=3).map(tuple),
    ports=st.lists(port_specs, max_size=3).map(tuple),
    addresses=st.lists(text, max_size=2).map(tuple),
    location=st.sampled_from(list(Location)),
    resolution=st.sampled_from(list(Resolution)),
    endpoints=st.lists(workloads, max_size=4).map(tuple),
    export_to=st.lists(text, max_size=2).map(tuple),
    subject_alt_names=st.lists(text, max_size=2).map(tuple),
    workload_selector=st.one_of(st.none(), pairs),
)
names = st.text(alphabet="abcdefghij-0123456789", min_size=1, max_size=20)


@settings(max_examples=300, deadline=None)
@given(spec=st.one_of(service_entries, workloads), name=names, labels=pairs, annotations=pairs)
def test_mcp_bytes_equal_the_generated_classes(
    spec: ServiceEntrySpec | WorkloadSpec, name: str, labels: tuple, annotations: tuple
) -> None:
    kind = Kind.SERVICE_ENTRY if isinstance(spec, ServiceEntrySpec) else Kind.WORKLOAD_ENTRY
    obj = MeshObject.create(kind, "ns", name, spec, labels=labels, annotations=annotations)
    assert encode_mcp(obj).any_bytes == mcp_any_bytes(obj)


@given(keys=st.lists(st.text(max_size=4), max_size=8, unique=True))
def test_map_entries_in_the_runtime_s_deterministic_order(keys: list[str]) -> None:
    msg = istio_networking_pb2.WorkloadSelector(labels={k: "v" for k in keys})
    pairs_ = tuple((k, "v") for k in reversed(keys))
    assert string_map(1, pairs_) == msg.SerializeToString(deterministic=True)


endpoints = st.builds(
    WorkloadSpec,
    address=st.one_of(ipv4, st.sampled_from(["::1", "fe80::1", "h.example", ""])),
    ports=ports,
    locality=st.sampled_from(["", "r/z", "r/z/s", "r", "a/b/c/d", "/z"]),
    weight=st.integers(0, 2**24),
)


@settings(max_examples=300, deadline=None)
@given(
    port=port_specs.filter(lambda p: p.number < 65536 and p.target_port < 65536),
    endpoints=st.lists(endpoints, max_size=6).map(tuple),
)
def test_load_assignment_bytes_equal_the_generated_classes(
    port: PortSpec, endpoints: tuple[WorkloadSpec, ...]
) -> None:
    name = "outbound|1||h"
    want = load_assignment(name, port, endpoints).SerializeToString(deterministic=True)
    assert load_assignment_bytes(name, port, endpoints) == want
    parsed = endpoint_pb2.ClusterLoadAssignment.FromString(load_assignment_bytes(name, port, ()))
    assert parsed.cluster_name == name


def test_out_of_range_numbers_are_encode_errors() -> None:
    bad = MeshObject.create(
        Kind.WORKLOAD_ENTRY, "ns", "w", WorkloadSpec("10.0.0.1", ports=(("p", 70000000000),))
    )
    with pytest.raises(EncodeError, match="uint32"):
        encode_mcp(bad)
    good = MeshObject.create(Kind.WORKLOAD_ENTRY, "ns", "w", WorkloadSpec("10.0.0.1"))
    assert any_pb2.Any.FromString(encode_mcp(good).any_bytes).type_url.endswith(".Resource")


@settings(max_examples=200, deadline=None)
@given(
    host=text,
    port=port_specs.filter(lambda p: p.number < 65536),
    protocol=st.sampled_from(["GRPC", "grpc-web", "HTTP2", "TCP", "HTTP", ""]),
)
def test_cluster_listener_route_bytes_equal_the_generated_classes(
    host: str, port: PortSpec, protocol: str
) -> None:
    port = PortSpec(port.number, protocol, port.name, port.target_port)
    spec = ServiceEntrySpec(hosts=(host,), ports=(port,))
    got = {(rt, r.name): r.any_bytes for rt, r in envoy_resources(spec, ())}
    name, lname = f"outbound|{port.number}||{host}", f"{host}:{port.number}"
    want = {
        (ResourceType.CLUSTER, name): pack(reference.cluster(name, port)),
        (ResourceType.ENDPOINT, name): pack(load_assignment(name, port, ())),
    }
    if protocol.upper() in ("GRPC", "GRPC-WEB", "HTTP2"):
        want[ResourceType.LISTENER, lname] = pack(reference.api_listener(lname, name))
        want[ResourceType.ROUTE, name] = pack(
            reference.route_configuration(name, host, port.number)
        )
    assert got == {k: v.SerializeToString(deterministic=True) for k, v in want.items()}
