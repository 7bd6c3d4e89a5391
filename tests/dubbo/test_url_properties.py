"""Property tests of the URL codec: round trips, no crash on any input, both decode paths agree."""

from __future__ import annotations

import contextlib
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dubbomesh.dubbo import url as url_module
from dubbomesh.dubbo.protocols import ENDPOINT_PROTOCOLS, NON_ENDPOINT_PROTOCOLS
from dubbomesh.dubbo.url import (
    DOUBLE_DECODED_KEYS,
    Decoded,
    DubboUrl,
    UrlError,
    decode_any,
    decode_component,
    decode_node,
    encode_component,
    encode_node,
    parse_url,
)

settings.register_profile("dubbomesh-url", deadline=None)
settings.load_profile("dubbomesh-url")

TEXT = st.text(st.characters(blacklist_categories=("Cs",)))
"""Any Unicode text that has a UTF-8 form (Java cannot encode lone surrogates either)."""
# Inputs rich in the characters the grammar cares about, to reach every branch.
SPICY = st.text(alphabet="%0123456789abcdefABCDEF+:/?&=;@[]._-*~ \u00e9\u4e2d\udc80", max_size=60)

_NAME = re.compile(r"[A-Za-z0-9.\-*_+%]*")


@given(TEXT)
def test_component_round_trip(text: str) -> None:
    encoded = encode_component(text)
    assert _NAME.fullmatch(encoded)
    assert not re.search(r"%[0-9A-F]?[a-f]", encoded)  # Java writes upper-case escapes
    assert decode_component(encoded) == (text, ())


@given(st.one_of(TEXT, SPICY))
def test_decode_component_raises_only_url_error(text: str) -> None:
    try:
        decoded, warnings = decode_component(text)
    except UrlError:
        return
    assert isinstance(decoded, str)
    assert all(w.code in {"lowercase-escape", "invalid-utf8"} for w in warnings)


def _host_port() -> st.SearchStrategy[tuple[str, int]]:
    port = st.integers(0, 65535)
    with_port = st.integers(1, 65535)
    ipv4 = st.ip_addresses(v=4).map(str)
    ipv6 = st.ip_addresses(v=6).map(str)
    name = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)
    zone = st.builds(
        lambda ip, z: f"{ip}%{z}", ipv6, st.from_regex(r"[a-z]{2,4}[0-9]", fullmatch=True)
    )
    return st.one_of(
        st.tuples(st.one_of(ipv4, name, ipv6.map(lambda h: f"[{h}]"), st.just("")), port),
        st.tuples(st.one_of(ipv6, zone), with_port),  # unbracketed IPv6 needs a port to parse
        st.tuples(zone, st.just(0)),
    )


_VALUE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="&;"), max_size=20
).map(str.strip)
_KEY = st.from_regex(r"[a-z][a-z0-9._-]{0,10}", fullmatch=True).filter(
    lambda k: not k.startswith("default.")
)


@st.composite
def dubbo_urls(draw: st.DrawFn) -> DubboUrl:
    protocols = sorted(ENDPOINT_PROTOCOLS) + sorted(NON_ENDPOINT_PROTOCOLS)
    protocol = draw(
        st.sampled_from(protocols) | st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
    )
    username = draw(st.sampled_from(["", "admin", "deploy.bot"]))
    password = draw(st.sampled_from(["", "s3cr:t", "p@ss"])) if username else ""
    host, port = draw(_host_port())
    path = draw(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="?"), max_size=30)
    ).lstrip("/")
    params = draw(st.dictionaries(_KEY, _VALUE, max_size=8))
    nested = draw(st.dictionaries(st.sampled_from(sorted(DOUBLE_DECODED_KEYS)), TEXT, max_size=2))
    params.update({k: v.strip() for k, v in nested.items()})
    return DubboUrl(protocol, username, password, host, port, path, params)


@given(dubbo_urls())
def test_encode_then_decode_node_is_identity(url: DubboUrl) -> None:
    decoded = decode_node(encode_node(url))
    assert decoded.error is None
    assert decoded.url == url
    text = url.to_string()
    if text == text.strip():  # parse_url trims, as Java's URL.valueOf does
        assert parse_url(text) == url


@given(dubbo_urls())
def test_to_string_is_java_style(url: DubboUrl) -> None:
    text = url.to_string()
    assert text.startswith(f"{url.protocol}://")
    query = text.partition("?")[2]
    keys = [part.partition("=")[0] for part in query.split("&")] if query else []
    assert keys == sorted(url.params)


def _check_decoded(decoded: Decoded) -> None:
    assert (decoded.url is None) == (decoded.error is not None)
    json.dumps(decoded.to_json(), ensure_ascii=True)


@given(st.one_of(TEXT, SPICY, st.text()))
def test_decode_node_and_decode_any_never_raise(text: str) -> None:
    _check_decoded(decode_node(text))
    _check_decoded(decode_node(text, directory=text))
    _check_decoded(decode_any(text))
    _check_decoded(decode_any("/dubbo/x/providers/" + text))


@given(st.one_of(TEXT, SPICY))
def test_parse_url_raises_only_url_error(text: str) -> None:
    with contextlib.suppress(UrlError):
        parse_url(text)


@given(dubbo_urls(), st.lists(st.tuples(st.integers(0, 400), SPICY), max_size=3))
def test_fast_path_agrees_with_reference_on_mangled_names(
    url: DubboUrl, edits: list[tuple[int, str]]
) -> None:
    name = encode_node(url)
    for at, junk in edits:
        name = name[:at] + junk + name[at:]
    fast = decode_node(name, directory="x")
    reference = url_module._decode_node_general(name, "x")
    assert fast.url == reference.url
    assert fast.error == reference.error
    assert {w.code for w in fast.warnings} == {w.code for w in reference.warnings}


_PARTS = st.sampled_from(
    ["a", "b=", "a=1", "=x", "", "k==v", "default.a=2", "default.c=3", "c=%3D", "m=x,y", "n=a b",
     "rule=x%3Dy", "w=中", "v=%C3", "p=q%2Br", "e=%7E", "z=;"]
)  # fmt: skip


@given(st.lists(_PARTS, max_size=8), st.sampled_from(["&", ";"]))
def test_fast_path_agrees_with_reference_on_odd_queries(parts: list[str], sep: str) -> None:
    name = encode_component("dubbo://10.0.0.1:20880/com.acme.Foo?" + sep.join(parts))
    fast = decode_node(name)
    reference = url_module._decode_node_general(name, None)
    assert fast.url == reference.url
    assert {w.code for w in fast.warnings} == {w.code for w in reference.warnings}
