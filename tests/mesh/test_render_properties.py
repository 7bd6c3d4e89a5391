"""Properties of rendering: deterministic, history-independent, valid names, no port capture."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubbomesh.dubbo.builder import CatalogBuilder
from dubbomesh.dubbo.model import Catalog, Endpoint
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged
from dubbomesh.dubbo.url import encode_node, parse_url
from dubbomesh.mesh.addresses import port_claims
from dubbomesh.mesh.intent import Kind, MeshIntent, ServiceEntrySpec, WorkloadSpec
from dubbomesh.mesh.labels import is_label_key, is_label_value
from dubbomesh.mesh.naming import is_dns_label, is_dns_subdomain
from dubbomesh.mesh.render import Renderer, render
from dubbomesh.mesh.services import is_ip
from dubbomesh.mesh.settings import AddressStrategy, EndpointMode, MeshSettings
from tests.mesh.factories import catalog, ep

endpoint = st.builds(
    lambda iface, host, proto, port, app, group, version, tag: ep(
        iface,
        host,
        proto=proto,
        port=port,
        app=app,
        group=group,
        version=version,
        params=(("dubbo.tag", tag),),
    ),
    st.sampled_from(["com.foo.A", "com.foo.a", "com.Foo.B$C", "x_y.Z", "com.foo." + "L" * 70]),
    st.sampled_from(["10.0.0.1", "10.0.0.2", "2001:db8::7", "svc.example.com"]),
    st.sampled_from(["dubbo", "tri", "rest", "thrift", "weird"]),
    st.sampled_from([0, 20880, 20881, 50051]),
    st.sampled_from(["one", "two", "Bad App!"]),
    st.sampled_from(["", "g", "1.0"]),
    st.sampled_from(["", "1.0", "g"]),
    st.sampled_from(["gray", "bad tag", "", "x" * 70]),
)
mesh_settings = st.builds(
    MeshSettings,
    endpoint_mode=st.sampled_from(list(EndpointMode)),
    address_strategy=st.sampled_from(list(AddressStrategy)),
    aeraki=st.booleans(),
    registry_suffix=st.booleans(),
)


def check_captured_once(cat: Catalog, s: MeshSettings, intent: MeshIntent) -> None:
    """Every provider IP:port (TCP or HTTP-family) is in exactly one entry that carries that IP as
    an address, with that port number: what a sidecar needs to capture a consumer dialling the
    address read from ZooKeeper. ``l7-only`` publishes no addresses at all."""
    claims: dict[tuple[str, int], int] = {}
    for obj in intent.of_kind(Kind.SERVICE_ENTRY):
        assert isinstance(obj.spec, ServiceEntrySpec)
        for address in obj.spec.addresses:
            for port in obj.spec.ports:
                claims[(address, port.number)] = claims.get((address, port.number), 0) + 1
    if s.address_strategy is AddressStrategy.L7_ONLY:
        assert claims == {}
        return
    for service in cat:
        for e in service.endpoints:
            if is_ip(e.address):
                assert claims.get((e.address, e.port)) == 1, (e.address, e.port)


def check_valid(cat: Catalog, s: MeshSettings) -> None:
    intent = render(cat, s)
    assert port_claims(intent.objects.values()) == []
    check_captured_once(cat, s, intent)
    for obj in intent.objects.values():
        assert is_dns_label(obj.name), obj.name
        for key, value in obj.labels:
            assert is_label_key(key)
            assert is_label_value(value)
        specs: list[WorkloadSpec] = []
        if isinstance(obj.spec, ServiceEntrySpec):
            assert obj.spec.ports
            for host in obj.spec.hosts:
                assert is_dns_subdomain(host), host
            specs = list(obj.spec.endpoints)
            for address in obj.spec.addresses:
                assert is_ip(address), address
            names = [p.name for p in obj.spec.ports]
            assert len(set(names)) == len(names)
            assert len({p.number for p in obj.spec.ports}) == len(names)
        else:
            assert obj.kind is Kind.WORKLOAD_ENTRY
            specs = [obj.spec]
        for spec in specs:
            assert is_ip(spec.address), spec.address
            for key, value in spec.labels:
                assert is_label_key(key)
                assert is_label_value(value)
                assert key not in ("timestamp", "pid")


@settings(max_examples=80, deadline=None)
@given(st.lists(endpoint, max_size=14), mesh_settings)
def test_output_is_valid(eps: list[Endpoint], s: MeshSettings) -> None:
    check_valid(catalog(*eps), s)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(endpoint, max_size=10), min_size=1, max_size=4),
    mesh_settings,
)
def test_incremental_equals_full_and_is_deterministic(
    history: list[list[Endpoint]], s: MeshSettings
) -> None:
    renderer = Renderer(s)
    for eps in history:
        cat = catalog(*eps)
        incremental = renderer.render(cat)
        full = render(cat, s)
        assert incremental.version == full.version
        assert list(incremental.objects) == list(full.objects)
        assert incremental.problems == full.problems
        assert render(catalog(*reversed(eps)), s).version == full.version


def restart_catalog(pid: int) -> Catalog:
    b = CatalogBuilder(["zk"])
    for i in range(3):
        iface = f"com.foo.S{i}"
        names = frozenset(
            encode_node(
                parse_url(
                    f"{proto}://10.0.0.{h}:{port}/{iface}?interface={iface}&application=app"
                    f"&dubbo.tag=t&pid={pid + h}&timestamp={1700000000000 + pid}"
                )
            )
            for h in (1, 2)
            for proto, port in (("dubbo", 20880), ("tri", 50051))
        )
        b.apply(ProvidersChanged("zk", "dubbo", iface, names))
    b.apply(ListingComplete("zk"))
    return b.snapshot()


def test_restart_changing_timestamp_and_pid_keeps_catalog_and_intent_versions() -> None:
    before, after = restart_catalog(100), restart_catalog(7777)
    assert before.version == after.version
    for mode in EndpointMode:
        s = MeshSettings(endpoint_mode=mode)
        assert render(before, s).version == render(after, s).version
