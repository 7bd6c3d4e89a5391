"""Content versions: cheap, order-independent, and a function of content only (never of object
sharing or history)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubbomesh.dubbo.builder import CatalogBuilder
from dubbomesh.dubbo.model import Catalog, Endpoint, Service, ServiceId, VersionSum, tuple_hash
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged
from dubbomesh.dubbo.url import encode_node, parse_url


def endpoint(host: int, params: tuple[tuple[str, str], ...]) -> Endpoint:
    return Endpoint(ServiceId("com.foo.A"), "dubbo", f"10.0.0.{host}", 20880, params=params)


def test_tuple_hash_depends_on_content_not_on_sharing() -> None:
    word = "x" * 40
    shared = (word, word, (word,))
    copies = ("x" * 40, "".join(["x"] * 40), ("xx" * 20,))
    assert tuple_hash(shared) == tuple_hash(copies)
    assert tuple_hash(shared) != tuple_hash((word, word, (word + "y",)))
    assert tuple_hash((1, "1")) != tuple_hash(("1", 1))


def test_service_version_ignores_params_sharing_but_not_params() -> None:
    params = (("application", "a"), ("side", "provider"))
    copy = tuple((str(k), "".join(v)) for k, v in params)
    sid = ServiceId("com.foo.A")
    shared = Service.create(sid, [endpoint(1, params), endpoint(2, params)])
    distinct = Service.create(sid, [endpoint(2, copy), endpoint(1, params)])
    assert shared.version == distinct.version
    other = Service.create(sid, [endpoint(1, params), endpoint(2, (("application", "b"),))])
    assert other.version != shared.version


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), unique=True), st.randoms())
def test_version_sum_is_order_independent(members: list[tuple[str, str]], rnd: object) -> None:
    forward, backward, churned = VersionSum(), VersionSum(), VersionSum()
    for key, version in members:
        forward.add(key, version)
    for key, version in reversed(members):
        backward.add(key, version)
    shuffled = list(members)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    churned.add("gone", "v")
    for key, version in shuffled:
        churned.add(key, version)
    churned.remove("gone", "v")
    assert forward.version == backward.version == churned.version
    if members:
        forward.remove(*members[0])
        assert forward.version != backward.version


def provider(iface: str, host: int, weight: int = 100) -> str:
    return encode_node(
        parse_url(f"dubbo://10.0.0.{host}:20880/{iface}?interface={iface}&weight={weight}")
    )


def test_one_change_rebuilds_one_service_and_says_so() -> None:
    b = CatalogBuilder(["zk"])
    ifaces = [f"com.foo.S{i}" for i in range(20)]
    for iface in ifaces:
        b.apply(ProvidersChanged("zk", "/dubbo", iface, frozenset({provider(iface, 1)})))
    b.apply(ListingComplete("zk"))
    first = b.snapshot()
    names = frozenset({provider(ifaces[3], 1, weight=7)})
    b.apply(ProvidersChanged("zk", "/dubbo", ifaces[3], names))
    second = b.snapshot()
    assert b.stats.rebuilt_last == 1
    assert second.touched_since(first.serial) == frozenset({ServiceId(ifaces[3])})
    assert second.touched_since(second.serial) == frozenset()
    assert second.touched_since(first.serial - 1 if first.serial > 1 else 10**9) is None
    assert all(second.get(s.id) is s for s in first if s.id != ServiceId(ifaces[3]))
    assert second.version == Catalog.create(second).version
    assert list(second.services) == sorted(second.services)


def test_the_builder_keeps_fingerprints_of_child_names_not_the_names() -> None:
    b = CatalogBuilder(["zk"])
    name = provider("com.foo.A", 1)
    b.apply(ProvidersChanged("zk", "/dubbo", "com.foo.A", frozenset({name})))
    kept = [key for names in b._providers.names.values() for key in names]
    assert kept
    assert all(isinstance(k, int) and k.bit_length() <= 96 for k in kept)
    b.apply(ProvidersChanged("zk", "/dubbo", "com.foo.A", frozenset({name})))  # memo hit
    assert b.stats.provider_nodes == 1
