"""Property: the catalog is a function of the final registry state, not of the event history."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubbomesh.dubbo.builder import CatalogBuilder
from dubbomesh.dubbo.registry import ConfiguratorsChanged, ListingComplete, ProvidersChanged
from dubbomesh.dubbo.url import encode_node, parse_url

IFACES = ["com.foo.A", "com.foo.B", "com.foo.C"]

provider = st.builds(
    lambda iface, host, port, weight, ver, pid: (
        iface,
        encode_node(
            parse_url(
                f"{'dubbo' if port == 20880 else 'tri'}://10.0.0.{host}:{port}/{iface}?"
                f"interface={iface}&application=app{host % 2}&weight={weight}&pid={pid}"
                + (f"&version={ver}" if ver else "")
            )
        ),
    ),
    st.sampled_from(IFACES),
    st.integers(1, 4),
    st.sampled_from([20880, 50051]),
    st.sampled_from([0, 50, 100]),
    st.sampled_from(["", "1.0"]),
    st.integers(1, 3),
)
override = st.builds(
    lambda iface, host, w: (
        iface,
        encode_node(parse_url(f"override://10.0.0.{host}:20880/{iface}?weight={w}")),
    ),
    st.sampled_from(IFACES),
    st.integers(1, 4),
    st.integers(0, 200),
)


def final_state(
    nodes: list[tuple[str, str]], rules: list[tuple[str, str]]
) -> list[ProvidersChanged | ConfiguratorsChanged]:
    events: list[ProvidersChanged | ConfiguratorsChanged] = []
    for iface in IFACES:
        events.append(
            ProvidersChanged("zk", "dubbo", iface, frozenset(n for i, n in nodes if i == iface))
        )
        events.append(
            ConfiguratorsChanged("zk", "dubbo", iface, frozenset(n for i, n in rules if i == iface))
        )
    return events


@settings(max_examples=60, deadline=None)
@given(
    st.lists(provider, max_size=12),
    st.lists(override, max_size=4),
    st.lists(provider, max_size=6),
    st.randoms(use_true_random=False),
)
def test_history_does_not_matter(
    nodes: list[tuple[str, str]],
    rules: list[tuple[str, str]],
    noise: list[tuple[str, str]],
    rnd: object,
) -> None:
    direct = CatalogBuilder(["zk"])
    for ev in final_state(nodes, rules):
        direct.apply(ev)
    direct.apply(ListingComplete("zk"))

    winding = CatalogBuilder(["zk"])
    detour = final_state(noise + nodes[: len(nodes) // 2], rules[:1])
    final = final_state(nodes, rules)
    rnd.shuffle(detour)  # type: ignore[attr-defined]
    rnd.shuffle(final)  # type: ignore[attr-defined]
    for i, ev in enumerate(detour):
        winding.apply(ev)
        if i % 2:
            winding.snapshot()
    for ev in final:
        winding.apply(ev)
        winding.apply(ev)  # idempotent
    winding.apply(ListingComplete("zk"))

    a, b = direct.snapshot(), winding.snapshot()
    assert a.version == b.version
    assert [s.to_data() for s in a] == [s.to_data() for s in b]
