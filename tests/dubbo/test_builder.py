"""CatalogBuilder: incremental rebuilds, idempotence, overrides, dedupe, completeness, problems."""

from __future__ import annotations

import json

import pytest

from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder, UnknownRegistryError
from dubbomesh.dubbo.model import ServiceId, Source
from dubbomesh.dubbo.registry import (
    BadNode,
    ConfigRuleChanged,
    ConfiguratorsChanged,
    DirectoryRemoved,
    InstancesChanged,
    ListingComplete,
    MappingChanged,
    MetadataChanged,
    ProvidersChanged,
)
from dubbomesh.dubbo.url import encode_node, parse_url
from tests.dubbo.test_instances import METADATA, curator


def node(iface: str, ip: str, *, port: int = 20880, proto: str = "dubbo", extra: str = "") -> str:
    url = (
        f"{proto}://{ip}:{port}/{iface}?application=app1&interface={iface}&version=1.0"
        f"&pid=123&timestamp=1700000000000{extra}"
    )
    return encode_node(parse_url(url))


def providers(iface: str, *names: str, registry: str = "zk") -> ProvidersChanged:
    return ProvidersChanged(registry, "dubbo", iface, frozenset(names))


def sid(iface: str) -> ServiceId:
    return ServiceId(iface, "", "1.0")


def loaded(n_ifaces: int = 3, n_hosts: int = 3) -> CatalogBuilder:
    b = CatalogBuilder(["zk"])
    for i in range(n_ifaces):
        iface = f"com.foo.S{i}"
        b.apply(providers(iface, *(node(iface, f"10.0.0.{h + 1}") for h in range(n_hosts))))
    b.apply(ListingComplete("zk"))
    return b


def test_complete_only_after_every_registry_listed() -> None:
    b = CatalogBuilder(["a", "b"])
    b.apply(providers("com.foo.S", node("com.foo.S", "10.0.0.1"), registry="a"))
    assert not b.snapshot().complete
    b.apply(ListingComplete("a"))
    assert not b.snapshot().complete
    b.apply(ListingComplete("b"))
    assert b.snapshot().complete


def test_unknown_registry_is_a_wiring_bug() -> None:
    with pytest.raises(UnknownRegistryError):
        CatalogBuilder(["zk"]).apply(ListingComplete("other"))


def test_one_node_change_rebuilds_one_service_and_reuses_others() -> None:
    b = loaded()
    first = b.snapshot()
    iface = "com.foo.S1"
    names = [node(iface, f"10.0.0.{h + 1}") for h in range(3)]
    b.apply(providers(iface, *names, node(iface, "10.0.0.9")))
    second = b.snapshot()
    assert b.stats.rebuilt_last == 1
    assert first.diff(second).touched == {sid(iface)}
    assert second.services[sid("com.foo.S0")] is first.services[sid("com.foo.S0")]


def test_same_event_twice_changes_nothing() -> None:
    b = loaded()
    first = b.snapshot()
    iface = "com.foo.S0"
    b.apply(providers(iface, *(node(iface, f"10.0.0.{h + 1}") for h in range(3))))
    assert b.snapshot() is first


def test_restart_changing_only_timestamp_and_pid_keeps_the_version() -> None:
    b = loaded()
    before = b.snapshot().version
    iface = "com.foo.S2"
    restarted = [
        encode_node(parse_url(parse_url_text(iface, f"10.0.0.{h + 1}", pid=999 + h)))
        for h in range(3)
    ]
    b.apply(providers(iface, *restarted))
    assert b.snapshot().version == before


def parse_url_text(iface: str, ip: str, *, pid: int) -> str:
    return (
        f"dubbo://{ip}:20880/{iface}?application=app1&interface={iface}&version=1.0"
        f"&pid={pid}&timestamp={1800000000000 + pid}"
    )


def test_volatile_params_never_enter_endpoints() -> None:
    catalog = loaded().snapshot()
    for service in catalog:
        for ep in service.endpoints:
            assert {"timestamp", "pid"}.isdisjoint(k for k, _ in ep.params)
            assert list(ep.params) == sorted(ep.params)


def test_overrides_weight_and_disable_then_clear() -> None:
    b = loaded(1, 2)
    iface = "com.foo.S0"
    weight = encode_node(parse_url(f"override://10.0.0.1:20880/{iface}?version=1.0&weight=7"))
    off = encode_node(parse_url(f"override://10.0.0.2:20880/{iface}?version=1.0&disabled=true"))
    b.apply(ConfiguratorsChanged("zk", "dubbo", iface, frozenset({weight, off})))
    eps = b.snapshot().services[sid(iface)].endpoints
    assert [(e.address, e.weight) for e in eps] == [("10.0.0.1", 7)]
    empty = encode_node(parse_url(f"empty://0.0.0.0/{iface}?category=configurators"))
    b.apply(ConfiguratorsChanged("zk", "dubbo", iface, frozenset({weight, off, empty})))
    eps = b.snapshot().services[sid(iface)].endpoints
    assert [(e.address, e.weight) for e in eps] == [("10.0.0.1", 100), ("10.0.0.2", 100)]


def test_yaml_rule_for_the_application() -> None:
    b = loaded(2, 1)
    doc = {
        "scope": "application",
        "key": "app1",
        "configs": [
            {"side": "provider", "addresses": ["10.0.0.1:20880"], "parameters": {"weight": 5}}
        ],
    }
    b.apply(ConfigRuleChanged("zk", "dubbo", "app1.configurators", doc))
    assert {e.weight for s in b.snapshot() for e in s.endpoints} == {5}
    b.apply(ConfigRuleChanged("zk", "dubbo", "app1.configurators", None))
    assert {e.weight for s in b.snapshot() for e in s.endpoints} == {100}
    b.apply(ConfigRuleChanged("zk", "dubbo", "app1.configurators", {"scope": 1}))
    assert b.stats.problems["bad-rule"] == 1


def test_provider_registered_disabled_is_absent() -> None:
    b = CatalogBuilder(["zk"])
    b.apply(providers("com.foo.S", node("com.foo.S", "10.0.0.1", extra="&enabled=false")))
    assert len(b.snapshot()) == 0


def test_loopback_and_unroutable_dropped_unless_allowed() -> None:
    names = (node("com.foo.S", "127.0.0.1"), node("com.foo.S", "0.0.0.0"))
    strict = CatalogBuilder(["zk"])
    strict.apply(providers("com.foo.S", *names))
    assert len(strict.snapshot()) == 0
    assert strict.stats.problems == {"loopback": 1, "unroutable": 1}
    lenient = CatalogBuilder(["zk"], BuildPolicy(allow_loopback=True))
    lenient.apply(providers("com.foo.S", *names))
    assert lenient.snapshot().endpoint_count == 1


def test_decode_errors_counted_once_per_node_and_examples_bounded() -> None:
    b = CatalogBuilder(["zk"])
    bad = frozenset(f"dubbo%3A%2F%2F10.0.0.1%3A{i}%9%d" for i in range(600))
    b.apply(ProvidersChanged("zk", "dubbo", "com.foo.S", bad))
    b.apply(ProvidersChanged("zk", "dubbo", "com.foo.S", bad))
    assert b.stats.problems["malformed-name"] == 600
    assert len(b.problems()) <= 256


def test_interface_mismatch_follows_the_url_and_is_reported() -> None:
    b = CatalogBuilder(["zk"])
    b.apply(providers("com.foo.Dir", node("com.foo.Real", "10.0.0.1")))
    assert list(b.snapshot().services) == [sid("com.foo.Real")]
    assert b.stats.problems["interface-mismatch"] == 1


def test_directory_removed_drops_its_services() -> None:
    b = loaded(2, 1)
    b.snapshot()
    b.apply(DirectoryRemoved("zk", "dubbo", "com.foo.S0"))
    assert list(b.snapshot().services) == [sid("com.foo.S1")]


def test_bad_node_keeps_state() -> None:
    b = loaded(1, 1)
    before = b.snapshot()
    b.apply(BadNode("zk", "/dubbo/com.foo.S0/providers", "Packet len out of range"))
    assert b.snapshot() is before
    assert b.stats.problems["bad-node"] == 1


def test_same_endpoint_in_two_registries_appears_once() -> None:
    b = CatalogBuilder(["b", "a"])
    for reg in ("b", "a"):
        b.apply(providers("com.foo.S", node("com.foo.S", "10.0.0.1"), registry=reg))
    (ep,) = b.snapshot().services[sid("com.foo.S")].endpoints
    assert ep.registry == "a"


# ------------------------------------------------------------------ application-level discovery

APP = "first-dubbo-provider"


def instance_events(b: CatalogBuilder, *, storage: str = "remote") -> None:
    b.apply(InstancesChanged("zk", APP, {"30.221.146.35:20880": curator(storage=storage)}))


def test_instances_with_remote_metadata() -> None:
    b = CatalogBuilder(["zk"])
    instance_events(b)
    b.apply(MetadataChanged("zk", "dubbo", APP, "871fbc9cb2730caea9b0d858852d5ede", METADATA))
    catalog = b.snapshot()
    assert set(catalog.services) == {
        ServiceId("com.foo.Bar", "grp", "1.0"),
        ServiceId("com.foo.Baz"),
        ServiceId("com.foo.Qux"),
    }
    assert all(e.source is Source.INSTANCE for s in catalog for e in s.endpoints)
    b.apply(InstancesChanged("zk", APP, {}))
    assert len(b.snapshot()) == 0


def test_interface_and_instance_level_dedupe_preferring_interface() -> None:
    b = CatalogBuilder(["zk"])
    url = (
        "dubbo://30.221.146.35:20880/com.foo.Bar?application=first-dubbo-provider&group=grp"
        "&interface=com.foo.Bar&version=1.0&weight=40"
    )
    b.apply(providers("com.foo.Bar", encode_node(parse_url(url))))
    instance_events(b)
    b.apply(MetadataChanged("zk", "dubbo", APP, "871fbc9cb2730caea9b0d858852d5ede", METADATA))
    (ep,) = b.snapshot().services[ServiceId("com.foo.Bar", "grp", "1.0")].endpoints
    assert ep.source is Source.INTERFACE
    assert ep.weight == 40


def test_local_metadata_uses_mapping_and_interface_level_template() -> None:
    b = CatalogBuilder(["zk"])
    url = (
        "dubbo://10.9.9.9:20880/com.foo.Bar?application=first-dubbo-provider&group=grp"
        "&interface=com.foo.Bar&version=1.0"
    )
    b.apply(providers("com.foo.Bar", encode_node(parse_url(url))))
    instance_events(b, storage="local")
    assert b.snapshot().endpoint_count == 1
    assert b.stats.problems["instance-metadata-unavailable"] >= 1
    b.apply(MappingChanged("zk", "dubbo", "com.foo.Bar", APP.encode()))
    eps = b.snapshot().services[ServiceId("com.foo.Bar", "grp", "1.0")].endpoints
    assert [(e.address, e.source) for e in eps] == [
        ("10.9.9.9", Source.INTERFACE),
        ("30.221.146.35", Source.INSTANCE),
    ]


def test_disabled_and_foreign_instances_are_skipped() -> None:
    b = CatalogBuilder(["zk"])
    spring = curator(cls="org.springframework.cloud.zookeeper.discovery.ZookeeperInstance")
    b.apply(InstancesChanged("zk", APP, {"a": curator(enabled=False), "b": spring}))
    b.apply(MetadataChanged("zk", "dubbo", APP, "871fbc9cb2730caea9b0d858852d5ede", METADATA))
    assert len(b.snapshot()) == 0
    assert b.stats.problems["disabled"] == 1
    assert b.stats.problems["not-dubbo"] == 1


def test_snapshot_json_round_trip_is_stable() -> None:
    a, b = loaded(), loaded()
    assert json.dumps([s.to_data() for s in a.snapshot()]) == json.dumps(
        [s.to_data() for s in b.snapshot()]
    )


def test_catalog_equals_what_catalog_create_builds() -> None:
    from dubbomesh.dubbo.model import Catalog

    b = loaded(5, 2)
    b.snapshot()
    b.apply(DirectoryRemoved("zk", "dubbo", "com.foo.S2"))
    built = b.snapshot()
    reference = Catalog.create(built, complete=built.complete)
    assert list(built.services) == list(reference.services)
    assert built.version == reference.version


def test_yaml_service_rule_by_node_name_touches_only_that_service() -> None:
    b = loaded(2, 1)
    before = b.snapshot()
    doc = {
        "scope": "service",
        "key": "com.foo.S1:1.0",
        "configs": [{"side": "provider", "parameters": {"disabled": True}}],
    }
    b.apply(ConfigRuleChanged("zk", "dubbo", "com.foo.S1:1.0:.configurators", doc))
    after = b.snapshot()
    assert b.stats.rebuilt_last == 1
    assert list(after.services) == [sid("com.foo.S0")]
    assert after.services[sid("com.foo.S0")] is before.services[sid("com.foo.S0")]
