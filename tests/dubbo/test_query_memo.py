"""The query memo: cut keys exactly, and never make the builder see anything a full decode would
not (compared on generated registries, with the memo switched off as the reference)."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder
from dubbomesh.dubbo.model import Catalog
from dubbomesh.dubbo.querymemo import QueryMemo
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged
from dubbomesh.dubbo.url import DubboUrl, encode_node

VOLATILE = frozenset({"timestamp", "pid"})


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("a%3D1%26pid%3D42%26b%3D2%26timestamp%3D1700000000000", "a%3D1%26b%3D2"),
        ("pid%3D42%26timestamp%3D7%26a%3D1", "a%3D1"),  # volatile first params
        ("timestamp%3D7", ""),
        ("a%3D1%26pid%3D4x2%26b%3D2", "a%3D1%26pid%3D4x2%26b%3D2"),  # not digits: kept
        ("a%3D1%26pid%3D%26b%3D2", "a%3D1%26b%3D2"),  # empty value: dropped either way
        ("a%3D1%26pid%3D12%253D5", "a%3D1%26pid%3D12%253D5"),  # an escape in the value
        ("a%3D1%26default.timestamp%3D5", "a%3D1%26default.timestamp%3D5"),
        ("a%3D1%26rapid%3D5%26pidx%3D6", "a%3D1%26rapid%3D5%26pidx%3D6"),  # other keys
        ("a%3D1%26pid%3D1%26pid%3D2", "a%3D1"),  # duplicates
        ("a%3D1%3Bpid%3D1%26b%3D2", "a%3D1%3Bpid%3D1%26b%3D2"),  # after ';': not a whole part
    ],
)
def test_key_cuts_whole_volatile_digit_parts_only(query: str, key: str) -> None:
    assert QueryMemo(VOLATILE).key(query) == key


def test_keys_a_decision_reads_are_never_cut() -> None:
    memo = QueryMemo(frozenset({"weight", "side", "timestamp"}))
    assert memo.key("weight%3D5%26side%3Dprovider%26timestamp%3D1") == (
        "weight%3D5%26side%3Dprovider"
    )


def test_only_canonical_names_of_endpoint_protocols_take_the_lane() -> None:
    memo = QueryMemo(VOLATILE)
    ok = encode_node(DubboUrl("dubbo", host="10.0.0.1", port=20880, path="a.B", params=_p()))
    assert memo.split(ok) is not None
    for url in (
        DubboUrl("override", host="10.0.0.1", port=20880, path="a.B", params=_p()),
        DubboUrl("dubbo", host="[::1]", port=20880, path="a.B", params=_p()),
        DubboUrl("dubbo", host="10.0.0.1", port=0, path="a.B", params=_p()),
        DubboUrl("dubbo", username="u", password="p", host="h", port=1, path="a", params=_p()),
    ):
        assert memo.split(encode_node(url)) is None, url


def _p(**values: str) -> MappingProxyType[str, str]:
    return MappingProxyType({"interface": "a.B", **values})


# ------------------------------------------------------------------ equivalence with the memo off

INTERFACES = ("com.acme.A", "com.acme.B")
hosts = st.sampled_from(["127.0.0.1", "127.1.2.3", "0.0.0.0", "LOCALHOST", "localhost", "[::2]"])
volatile_values = st.one_of(
    st.integers(0, 10**13).map(str), st.sampled_from(["", "x1", "1%2", "1;2", "١٢"])
)


@st.composite
def registries(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(directory, node name) pairs: a few application builds (a shared parameter set each),
    each deployed as several providers, with every oddity mixed in."""
    builds = draw(
        st.lists(
            st.tuples(st.sampled_from(INTERFACES), st.sampled_from(_SETS), st.integers(0, 4)),
            min_size=1,
            max_size=3,
        )
    )
    nodes: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 25))):
        interface, shared, has_interface = draw(st.sampled_from(builds))
        params = dict(shared)
        if has_interface:
            params["interface"] = interface
        # most providers are plain; some are odd in exactly one way
        odd = draw(
            st.sampled_from(["", "", "", "", "ts", "pid", "dir", "path", "proto", "port", "host"])
        )
        pick = st.sampled_from
        params["timestamp"] = draw(volatile_values if odd == "ts" else pick(["1700000000000", "1"]))
        params["pid"] = draw(volatile_values if odd == "pid" else st.integers(0, 99).map(str))
        directory = draw(pick(INTERFACES)) if odd == "dir" else interface
        path = draw(pick(INTERFACES)) if odd == "path" else interface
        protocol = draw(pick(["tri", "empty", "consumer"])) if odd == "proto" else "dubbo"
        port = draw(pick([50051, 0, 70000])) if odd == "port" else 20880
        host = draw(hosts if odd == "host" else pick(["10.0.0.1", "10.0.0.2", "h-1.local"]))
        url = DubboUrl(protocol, host=host, port=port, path=path, params=params)
        name = encode_node(url)
        if draw(st.booleans()):  # volatile params first, as a hand-written name may have them
            body, _, query = name.partition("%3F")
            parts = query.split("%26")
            parts.sort(key=lambda p: not p.startswith(("pid", "timestamp")))
            name = f"{body}%3F{'%26'.join(parts)}"
        nodes[name] = directory
    return [(directory, name) for name, directory in nodes.items()]


_SETS = [
    {},
    {"application": "app", "version": "1.0"},
    {"application": "app", "weight": "50", "methods": "a,b"},
    {"application": "app", "group": "g1", "default.weight": "7"},
    {"side": "consumer"},
    {"disabled": "true"},
]


def _build(
    nodes: list[tuple[str, str]],
    memo: bool,
    monkeypatch: pytest.MonkeyPatch,
    allow_loopback: bool = False,
) -> tuple[Catalog, dict[str, int], int]:
    """The catalog, the problem counts and the memo hits of one builder fed ``nodes``."""
    with monkeypatch.context() as patch:
        if not memo:
            patch.setattr(QueryMemo, "split", lambda self, name: None)
        builder = CatalogBuilder(["zk"], BuildPolicy(allow_loopback=allow_loopback))
        for directory in INTERFACES:
            children = frozenset(n for d, n in nodes if d == directory)
            builder.apply(ProvidersChanged("zk", "/dubbo", directory, children))
        builder.apply(ListingComplete("zk"))
        return builder.snapshot(), builder.problem_counts, builder._providers.memo.hits


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(nodes=registries(), loopback=st.booleans())
def test_memo_changes_nothing_the_builder_sees(
    nodes: list[tuple[str, str]], loopback: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_memo, problems, _ = _build(nodes, True, monkeypatch, loopback)
    without, reference_problems, none = _build(nodes, False, monkeypatch, loopback)
    assert none == 0
    assert with_memo.services == without.services
    assert with_memo.version == without.version
    assert problems == reference_problems  # no warning hidden or invented


def test_providers_sharing_a_parameter_set_hit_the_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten providers of one build: one full decode, nine from the memo, the same catalog."""
    nodes = []
    for n in range(10):
        params = {"interface": "com.acme.A", "application": "app", "weight": "50"}
        params |= {"timestamp": str(1_700_000_000_000 + n), "pid": str(100 + n)}
        url = DubboUrl(
            "dubbo", host=f"10.0.0.{n + 1}", port=20880, path="com.acme.A", params=params
        )
        nodes.append(("com.acme.A", encode_node(url)))
    with_memo, _, hits = _build(nodes, True, monkeypatch)
    without, _, _ = _build(nodes, False, monkeypatch)
    assert hits == 9
    assert with_memo.services == without.services
    assert with_memo.endpoint_count == 10
