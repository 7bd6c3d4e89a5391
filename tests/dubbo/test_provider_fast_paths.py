"""The provider decoder's shortcuts agree with the URL value's own definitions."""

from __future__ import annotations

from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from dubbomesh.dubbo.providers import Interner, NodeOutcome, _weight, decode_endpoint
from dubbomesh.dubbo.url import DubboUrl, decode_node, encode_node

weights = st.one_of(
    st.none(),
    st.text(alphabet="0123456789+- ١a", max_size=12),
    st.integers(-(10**11), 10**11).map(str),
)


@given(weights)
def test_weight_fast_path_equals_the_url_property(raw: str | None) -> None:
    params = {} if raw is None else {"weight": raw}
    url = DubboUrl("dubbo", host="10.0.0.1", port=20880, params=MappingProxyType(params))
    assert _weight(url) == url.weight


hosts = st.one_of(
    st.sampled_from(["10.0.0.1", "127.0.0.1", "0.0.0.0", "localhost", "LocalHost", "", "::1"]),
    st.sampled_from(["[::1]", "[2001:db8::1]", "[fe80::1%eth0]", "[::ffff:127.0.0.1]", "h.local"]),
    st.ip_addresses().map(str),
)


@given(hosts, st.integers(-1, 70000), st.booleans())
def test_provider_shortcuts_equal_the_url_definitions(host: str, port: int, loopback: bool) -> None:
    """A clean decode is routable; a plain host is its own address: as the slow definitions say."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = DubboUrl("dubbo", host=host, port=max(port, 0), path="com.acme.Svc")
    name = encode_node(url)
    out = decode_endpoint(
        name,
        directory="com.acme.Svc",
        registry="r",
        allow_loopback=loopback,
        volatile=frozenset(),
        intern=Interner(),
    )
    decoded = decode_node(name, directory="com.acme.Svc")
    assert decoded.url is not None
    slow = decoded.url.is_routable(allow_loopback=loopback)
    if isinstance(out, NodeOutcome):
        assert out.endpoint is None or slow
        assert (out.endpoint is not None) == slow
        ep = out.endpoint
    else:
        assert slow
        ep = out
    if ep is not None:
        assert ep.address == decoded.url.endpoint_address
        assert ep.port == decoded.url.port
