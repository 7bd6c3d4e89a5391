"""Early release (``early_events``): events flow during the first listing, and a consumer that
waits for completion ends with exactly the catalog the held-back mode gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubbomesh.dubbo.builder import CatalogBuilder
from dubbomesh.dubbo.model import Catalog
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged, RegistryEvent
from dubbomesh.dubbo.url import encode_node, parse_url
from dubbomesh.zk.mirror import Mirror
from tests.zk.test_mirror import PM, ROOT, providers


def name(iface: str, host: int) -> str:
    return encode_node(
        parse_url(f"dubbo://10.0.0.{host}:20880/{iface}?interface={iface}&application=a")
    )


def test_events_flow_before_the_listing_completes() -> None:
    m = Mirror("r", PM, max_directory_bytes=1 << 20, early=True)
    m.on_children(ROOT, ["a"], full=True)
    m.on_children(providers("a"), ["p1"], full=True)
    assert m.take_events() == [ProvidersChanged("r", "/dubbo", "a", frozenset({"p1"}))]
    assert m.complete() == []  # nothing held back: it all went out already


Step = tuple[str, tuple[str, ...]]
"""("root", directories) or (directory, provider names): one successful read."""

step = st.one_of(
    st.tuples(st.just("root"), st.lists(st.sampled_from("abc"), unique=True).map(tuple)),
    st.tuples(
        st.sampled_from("abc"),
        st.lists(st.integers(1, 4), unique=True).map(lambda hs: tuple(f"h{h}" for h in hs)),
    ),
)


def run(steps: list[Step], early: bool) -> Catalog:
    m = Mirror("r", PM, max_directory_bytes=1 << 20, early=early)
    builder = CatalogBuilder(["r"])
    events: list[RegistryEvent] = []
    m.on_children(ROOT, ["a", "b", "c"], full=True)
    for target, names in steps:
        if target == "root":
            m.on_children(ROOT, list(names), full=False)
        else:
            nodes = [name(f"com.x.{target}", int(n[1:])) for n in names]
            m.on_children(providers(target), nodes, full=True)
        events += m.take_events()
    events += m.complete()
    events.append(ListingComplete("r"))
    for event in events:
        builder.apply(event)
    return builder.snapshot()


@settings(max_examples=80, deadline=None)
@given(st.lists(step, max_size=12))
def test_early_release_ends_with_the_same_catalog(steps: list[Step]) -> None:
    held, early = run(steps, early=False), run(steps, early=True)
    assert early.complete
    assert held.complete
    assert early.version == held.version
    assert [s.to_data() for s in early] == [s.to_data() for s in held]
