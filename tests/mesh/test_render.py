"""Rendering: ports, address strategy, WorkloadEntry mode, collisions, incremental reuse."""

from __future__ import annotations

from dubbomesh.mesh.addresses import allocate_vips, port_claims
from dubbomesh.mesh.intent import Kind, MeshIntent, MeshObject, ServiceEntrySpec, WorkloadSpec
from dubbomesh.mesh.render import Renderer, render
from dubbomesh.mesh.settings import AddressStrategy, EndpointMode, MeshSettings
from tests.mesh.factories import catalog, ep

WORKLOAD_SUFFIX = ".workload.dubbo"


def entries(intent: MeshIntent) -> dict[str, ServiceEntrySpec]:
    out = {}
    for obj in intent.of_kind(Kind.SERVICE_ENTRY):
        assert isinstance(obj.spec, ServiceEntrySpec)
        out[obj.name] = obj.spec
    return out


def interface_entries(intent: MeshIntent) -> dict[str, ServiceEntrySpec]:
    """The interface-level entries (per-workload hosts end in ``.workload.dubbo``)."""
    return {n: s for n, s in entries(intent).items() if not s.hosts[0].endswith(WORKLOAD_SUFFIX)}


def workload_entries(intent: MeshIntent) -> dict[str, ServiceEntrySpec]:
    """The per-workload entries, by host."""
    return {s.hosts[0]: s for s in entries(intent).values() if s.hosts[0].endswith(WORKLOAD_SUFFIX)}


def by_host(intent: MeshIntent, host: str) -> ServiceEntrySpec:
    (spec,) = [s for s in entries(intent).values() if s.hosts == (host,)]
    return spec


def test_grpc_service_gets_an_interface_entry_with_stable_port() -> None:
    intent = render(
        catalog(ep("com.foo.Greeter", "10.0.0.1", proto="tri", port=50099, version="1")),
        MeshSettings(),
    )
    spec = by_host(intent, "com.foo.greeter.v-1.dubbo")
    assert [(p.number, p.protocol, p.name) for p in spec.ports] == [(50051, "GRPC", "grpc-tri")]
    assert spec.addresses == ()
    (endpoint,) = spec.endpoints
    assert endpoint.address == "10.0.0.1"
    assert dict(endpoint.ports) == {"grpc-tri": "50099"}
    assert spec.location.value == "MESH_INTERNAL"
    assert spec.resolution.value == "STATIC"


def test_port_number_never_depends_on_the_first_provider() -> None:
    a = ep("com.foo.G", "10.0.0.1", proto="tri", port=1111)
    b = ep("com.foo.G", "10.0.0.2", proto="tri", port=2222)
    for eps in ((a,), (b,), (a, b)):
        (spec,) = interface_entries(render(catalog(*eps), MeshSettings())).values()
        assert [p.number for p in spec.ports] == [50051]


def test_many_dubbo_interfaces_on_one_address_claim_each_ip_port_once() -> None:
    eps = [ep(f"com.foo.S{i}", ip) for i in range(20) for ip in ("10.0.0.1", "10.0.0.2")]
    intent = render(catalog(*eps), MeshSettings())
    specs = entries(intent)
    assert len(specs) == 2  # one per workload, no interface-level TCP entry
    for spec in specs.values():
        assert len(spec.addresses) == 1
        assert [(p.number, p.protocol) for p in spec.ports] == [(20880, "TCP")]
    assert port_claims(intent.objects.values()) == []
    assert not intent.problems


def test_contested_address_port_is_kept_once_and_reported() -> None:
    eps = [ep("com.foo.A", "10.0.0.1", app="a"), ep("com.foo.B", "10.0.0.1", app="b")]
    intent = render(catalog(*eps), MeshSettings())
    assert len(entries(intent)) == 1
    assert [p.code for p in intent.problems] == ["address-port-conflict"]


def test_vip_strategy_and_aeraki_port_names() -> None:
    settings = MeshSettings(address_strategy=AddressStrategy.WORKLOAD_VIP, aeraki=True)
    eps = [ep(f"com.foo.S{i}", "10.0.0.1") for i in range(5)]
    intent = render(catalog(*eps), settings)
    iface = [s for s in entries(intent).values() if s.hosts[0].startswith("com.")]
    assert len(iface) == 5
    assert len({s.addresses for s in iface}) == 5
    assert all(s.ports[0].name == "tcp-metaprotocol-dubbo" for s in iface)
    assert port_claims(intent.objects.values()) == []


def test_l7_only_has_no_tcp() -> None:
    settings = MeshSettings(address_strategy=AddressStrategy.L7_ONLY)
    intent = render(catalog(ep("com.foo.S", "10.0.0.1")), settings)
    assert len(intent) == 0


def test_workloadentry_mode_shared_address_and_multi_app_interface() -> None:
    settings = MeshSettings(endpoint_mode=EndpointMode.WORKLOAD_ENTRY)
    eps = [
        ep("com.foo.A", "10.0.0.1", proto="tri", app="one"),
        ep("com.foo.B", "10.0.0.1", proto="tri", app="one"),
        ep("com.foo.A", "10.0.0.2", proto="tri", app="two"),
    ]
    intent = render(catalog(*eps), settings)
    wes = {o.name: o.spec for o in intent.of_kind(Kind.WORKLOAD_ENTRY)}
    assert len(wes) == 2
    selectors = {
        spec.hosts[0]: dict(spec.workload_selector or ()) for spec in entries(intent).values()
    }
    for host, wanted in (("com.foo.a.dubbo", 2), ("com.foo.b.dubbo", 1)):
        (key,) = selectors[host]
        chosen = [w for w in wes.values() if isinstance(w, WorkloadSpec) and key in dict(w.labels)]
        assert len(chosen) == wanted


def test_workloadentry_split_when_one_app_listens_twice() -> None:
    settings = MeshSettings(endpoint_mode=EndpointMode.WORKLOAD_ENTRY)
    eps = [
        ep("com.foo.A", "10.0.0.1", proto="tri", port=50051),
        ep("com.foo.B", "10.0.0.1", proto="tri", port=50052),
    ]
    wes = list(render(catalog(*eps), settings).of_kind(Kind.WORKLOAD_ENTRY))
    assert sorted(
        dict(w.spec.ports)["grpc-tri"] for w in wes if isinstance(w.spec, WorkloadSpec)
    ) == [
        "50051",
        "50052",
    ]


def test_host_collision_is_reported_and_disambiguated() -> None:
    intent = render(
        catalog(ep("com.Foo", "10.0.0.1", proto="tri"), ep("com.foo", "10.0.0.2", proto="tri")),
        MeshSettings(),
    )
    hosts = [s.hosts[0] for s in interface_entries(intent).values()]
    assert len(set(hosts)) == 2
    assert "host-collision" in {p.code for p in intent.problems}


def test_weight_zero_endpoints_get_no_traffic() -> None:
    eps = [
        ep("a.G", "10.0.0.1", proto="tri", weight=0),
        ep("a.G", "10.0.0.2", proto="tri", weight=5),
    ]
    (spec,) = interface_entries(render(catalog(*eps), MeshSettings())).values()
    assert [(e.address, e.weight) for e in spec.endpoints] == [("10.0.0.2", 5)]


def test_export_to_and_registry_suffix() -> None:
    settings = MeshSettings(export_to=(".",), registry_suffix=True)
    eps = [
        ep("a.G", "10.0.0.1", proto="tri", registry="east"),
        ep("a.G", "10.0.0.2", proto="tri", registry="west"),
    ]
    specs = entries(render(catalog(*eps), settings))
    assert sorted(s.hosts[0] for s in specs.values()) == [
        "10-0-0-1.app1.workload.dubbo",
        "10-0-0-2.app1.workload.dubbo",
        "a.g.r-east.dubbo",
        "a.g.r-west.dubbo",
    ]
    assert all(s.export_to == (".",) for s in specs.values())


def test_incremental_renders_one_service_and_equals_full() -> None:
    eps = [ep(f"com.foo.S{i}", f"10.0.{i}.1", proto="tri") for i in range(50)]
    renderer = Renderer(MeshSettings())
    renderer.render(catalog(*eps))
    changed = [*eps[:-1], ep("com.foo.S49", "10.0.49.2", proto="tri")]
    intent = renderer.render(catalog(*changed))
    assert renderer.rendered_last == 3  # one service, its old and its new address
    assert intent.version == render(catalog(*changed), MeshSettings()).version


def test_unchanged_catalog_gives_identical_objects() -> None:
    cat = catalog(ep("a.G", "10.0.0.1", proto="tri"))
    renderer = Renderer(MeshSettings())
    first = renderer.render(cat)
    second = renderer.render(cat)
    assert first.version == second.version
    assert all(first.objects[k] is second.objects[k] for k in first.objects)


def test_vip_allocation_depends_on_the_key_set_only() -> None:
    keys = [f"k{i}" for i in range(100)]
    assert allocate_vips(keys, "242.0.0.0/24") == allocate_vips(reversed(keys), "242.0.0.0/24")
    assert len(set(allocate_vips(keys, "242.0.0.0/24").values())) == 100


def test_port_claims_detects_two_wildcard_tcp_entries() -> None:
    from dubbomesh.mesh.intent import PortSpec

    def se(name: str, addresses: tuple[str, ...] = ()) -> MeshObject:
        spec = ServiceEntrySpec(("h" + name,), (PortSpec(20880, "TCP", "tcp"),), addresses)
        return MeshObject.create(Kind.SERVICE_ENTRY, "ns", name, spec)

    assert len(port_claims([se("a"), se("b")])) == 1
    assert port_claims([se("a", ("1.1.1.1",)), se("b", ("1.1.1.2",))]) == []
    assert len(port_claims([se("a", ("1.1.1.1",)), se("b", ("1.1.1.1",))])) == 1


def test_tri_only_provider_gets_a_per_workload_entry_on_its_real_port() -> None:
    """A Dubbo consumer dials the provider IP:port from ZooKeeper: the sidecar needs an entry
    whose address is that IP and whose port is the REAL tri port (GRPC, matched by authority)."""
    intent = render(catalog(ep("com.foo.G", "10.0.0.1", proto="tri", port=50099)), MeshSettings())
    spec = workload_entries(intent)["10-0-0-1.app1.workload.dubbo"]
    assert spec.addresses == ("10.0.0.1",)
    assert [(p.number, p.protocol, p.name) for p in spec.ports] == [
        (50099, "GRPC", "grpc-tri-50099")
    ]
    (endpoint,) = spec.endpoints
    assert endpoint.address == "10.0.0.1"
    assert dict(endpoint.ports) == {"grpc-tri-50099": "50099"}
    assert spec.workload_selector is None
    assert by_host(intent, "com.foo.g.dubbo").addresses == ()  # the L7 entry is unchanged
    assert not intent.problems


def test_workload_entry_carries_tcp_and_http_family_ports_at_real_numbers() -> None:
    eps = [
        ep("com.foo.A", "10.0.0.1", proto="dubbo", port=20880),
        ep("com.foo.A", "10.0.0.1", proto="tri", port=50052),
        ep("com.foo.B", "10.0.0.1", proto="rest", port=8080),
    ]
    intent = render(catalog(*eps), MeshSettings())
    (spec,) = workload_entries(intent).values()
    assert [(p.number, p.protocol, p.name) for p in spec.ports] == [
        (8080, "HTTP", "http-rest-8080"),
        (20880, "TCP", "tcp-dubbo-20880"),
        (50052, "GRPC", "grpc-tri-50052"),
    ]
    assert dict(spec.endpoints[0].ports) == {
        "http-rest-8080": "8080",
        "tcp-dubbo-20880": "20880",
        "grpc-tri-50052": "50052",
    }
    (obj,) = [o for o in intent.of_kind(Kind.SERVICE_ENTRY) if o.spec is spec]
    assert [s.interface for s in obj.services] == ["com.foo.A", "com.foo.B"]
    assert port_claims(intent.objects.values()) == []


def test_port_shared_by_dubbo_and_tri_stays_tcp() -> None:
    """Dubbo 3 port unification: one port speaks both; a TCP proxy carries either."""
    eps = [
        ep("com.foo.A", "10.0.0.1", proto="tri", port=20880),
        ep("com.foo.A", "10.0.0.1", proto="dubbo", port=20880),
    ]
    intent = render(catalog(*eps), MeshSettings())
    (spec,) = workload_entries(intent).values()
    assert [(p.number, p.protocol) for p in spec.ports] == [(20880, "TCP")]
    assert not intent.problems


def test_tcp_claim_beats_an_http_claim_of_another_application() -> None:
    """Application "a" sorts first but registers tri on the port "b" serves dubbo on: adding HTTP
    ports never takes a TCP claim away; the loser is reported once."""
    eps = [
        ep("com.foo.A", "10.0.0.1", proto="tri", port=20880, app="a"),
        ep("com.foo.A2", "10.0.0.1", proto="tri", port=20880, app="a"),
        ep("com.foo.B", "10.0.0.1", proto="dubbo", port=20880, app="b"),
    ]
    intent = render(catalog(*eps), MeshSettings())
    specs = workload_entries(intent)
    assert list(specs) == ["10-0-0-1.b.workload.dubbo"]
    assert [(p.number, p.protocol) for p in specs["10-0-0-1.b.workload.dubbo"].ports] == [
        (20880, "TCP")
    ]
    assert [p.code for p in intent.problems] == ["address-port-conflict"]


def test_contested_http_port_is_kept_once_and_reported() -> None:
    eps = [
        ep("com.foo.A", "10.0.0.1", proto="tri", port=50051, app="a"),
        ep("com.foo.B", "10.0.0.1", proto="tri", port=50051, app="b"),
        ep("com.foo.B", "10.0.0.1", proto="tri", port=50052, app="b"),
    ]
    intent = render(catalog(*eps), MeshSettings())
    specs = workload_entries(intent)
    assert {h: [p.number for p in s.ports] for h, s in specs.items()} == {
        "10-0-0-1.a.workload.dubbo": [50051],
        "10-0-0-1.b.workload.dubbo": [50052],
    }
    assert [p.code for p in intent.problems] == ["address-port-conflict"]


def test_l7_only_keeps_no_per_workload_entries() -> None:
    settings = MeshSettings(address_strategy=AddressStrategy.L7_ONLY)
    eps = [ep("com.foo.G", "10.0.0.1", proto="tri"), ep("com.foo.S", "10.0.0.1")]
    intent = render(catalog(*eps), settings)
    assert workload_entries(intent) == {}
    assert list(interface_entries(intent)) == ["com-foo-g-dubbo"]
    assert all(not s.addresses for s in entries(intent).values())


def test_workloadentry_mode_tri_provider_keeps_an_inline_per_workload_entry() -> None:
    """The WorkloadEntry feeds the interface-level entry (by selector); the per-workload entry
    keeps its inline endpoint and selects nothing, so no endpoint is counted twice."""
    settings = MeshSettings(endpoint_mode=EndpointMode.WORKLOAD_ENTRY)
    intent = render(catalog(ep("com.foo.G", "10.0.0.1", proto="tri", port=50052)), settings)
    (we,) = intent.of_kind(Kind.WORKLOAD_ENTRY)
    assert isinstance(we.spec, WorkloadSpec)
    assert dict(we.spec.ports) == {"grpc-tri": "50052"}
    iface = by_host(intent, "com.foo.g.dubbo")
    assert iface.workload_selector
    assert iface.endpoints == ()
    spec = workload_entries(intent)["10-0-0-1.app1.workload.dubbo"]
    assert spec.workload_selector is None
    assert [(e.address, dict(e.ports)) for e in spec.endpoints] == [
        ("10.0.0.1", {"grpc-tri-50052": "50052"})
    ]


def test_tri_provider_moving_port_is_rerendered_incrementally() -> None:
    renderer = Renderer(MeshSettings())
    renderer.render(catalog(ep("a.G", "10.0.0.1", proto="tri", port=50052)))
    moved = catalog(ep("a.G", "10.0.0.1", proto="tri", port=50053))
    intent = renderer.render(moved)
    assert intent.version == render(moved, MeshSettings()).version
    spec = workload_entries(intent)["10-0-0-1.app1.workload.dubbo"]
    assert [p.number for p in spec.ports] == [50053]
