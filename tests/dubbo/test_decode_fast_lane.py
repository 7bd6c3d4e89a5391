"""The decoder's fast lane (canonical body regex, inline routability) against the reference path.

``decode_node`` decides routability and directory agreement inline for names whose body matches
``CANONICAL_BODY`` and hands anything unusual to the general checks. These tests pin that the
shortcut changes nothing: the whole ``Decoded`` (URL, warning codes AND texts, their order, error)
equals the reference path's, on exactly the hosts, ports and protocols where a shortcut could slip.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubbomesh.dubbo import url as url_module
from dubbomesh.dubbo.url import decode_node, encode_component
from dubbomesh.dubbo.urlcodec import CANONICAL_BODY

PROTOCOLS = ["dubbo", "tri", "consumer", "override", "condition", "weird", "Dubbo", "x1"]
HOSTS = [
    "10.0.0.1", "a-b.example", "x_y", "127.0.0.1", "127.1.2.3", "127", "1270.0.0.1", "0.0.0.0",
    "00.0.0.0", "0.0.0.00", "localhost", "LocalHost", "LOCALHOST", "localhost.", "localhos", "-",
    ".", "1.2.3.4.", "[2001:db8::1]", "[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]",
    "[:]", "[FE80::1]", "[1.2.3.4]",
]  # fmt: skip
NOT_CANONICAL = {"[1.2.3.4]"}  # no ':' inside: the general body parser's business
PORTS = ["", ":0", ":1", ":080", ":00000", ":65535", ":65536", ":99999"]
DIRECTORIES = [None, "com.acme.Foo", "com.acme.Bar", "com.acme.Foo%2B"]


def _same(name: str, directory: str | None) -> None:
    fast = decode_node(name, directory=directory)
    reference = url_module._decode_node_general(name, directory)
    assert fast == reference
    assert fast.warnings == reference.warnings  # texts and order too, not just codes


def test_canonical_bodies_agree_with_the_reference_path() -> None:
    seen_codes: set[str] = set()
    for protocol in PROTOCOLS:
        for host in HOSTS:
            for port in PORTS:
                url = f"{protocol}://{host}{port}/com.acme.Foo?interface=com.acme.Foo&side=x"
                name = encode_component(url)
                # the lane under test is the one taken
                assert (CANONICAL_BODY.match(name) is None) == (host in NOT_CANONICAL), name
                for directory in DIRECTORIES:
                    _same(name, directory)
                    decoded = decode_node(name, directory=directory)
                    seen_codes.update(w.code for w in decoded.warnings)
    assert seen_codes == {
        "loopback-host", "unroutable-host", "unknown-protocol", "interface-mismatch",
    }  # fmt: skip


def test_inline_routability_matches_java_rules() -> None:
    def codes(url: str) -> list[str]:
        return [w.code for w in decode_node(encode_component(url)).warnings]

    assert codes("dubbo://10.0.0.1:20880/a.B?x=1") == []
    assert codes("dubbo://LocalHost:20880/a.B?x=1") == ["loopback-host"]
    assert codes("dubbo://127.9.9.9:20880/a.B?x=1") == ["loopback-host"]
    assert codes("dubbo://0.0.0.0:20880/a.B?x=1") == ["unroutable-host"]
    assert codes("dubbo://10.0.0.1:65536/a.B?x=1") == ["unroutable-host"]
    assert codes("dubbo://10.0.0.1/a.B?x=1") == ["unroutable-host"]
    assert codes("override://0.0.0.0/a.B?x=1") == []  # "all hosts" on an override
    assert codes("tri://1270.0.0.1:50051/a.B?x=1") == []
    assert codes("dubbo://[2001:db8::1]:20880/a.B?x=1") == []
    assert codes("dubbo://[::ffff:127.0.0.1]:20880/a.B?x=1") == ["loopback-host"]
    assert codes("dubbo://[::]:20880/a.B?x=1") == ["unroutable-host"]


_PARTS = st.sampled_from(
    ["a=1", "b=", "k==v", "default.a=2", "default.c=3", "c=%3D", "m=x,y", "n=a b", "rule=x%3Dy",
     "w=中", "v=%C3", "p=q%2Br", "e=%7E", "q=what?", "interface=com.acme.Foo", "interface=",
     "u=中文 x+y", "methods=a,b", "default.u=中文", "d=a%2Cb%2Cc%2Cd"]
)  # fmt: skip


@settings(deadline=None)
@given(
    st.sampled_from(PROTOCOLS),
    st.sampled_from(HOSTS),
    st.sampled_from(PORTS),
    st.lists(_PARTS, min_size=1, max_size=8),
    st.sampled_from(DIRECTORIES),
)
def test_canonical_bodies_with_odd_queries_agree(
    protocol: str, host: str, port: str, parts: list[str], directory: str | None
) -> None:
    name = encode_component(f"{protocol}://{host}{port}/com.acme.Foo?" + "&".join(parts))
    _same(name, directory)


_BODY = "dubbo%3A%2F%2F10.0.0.1%3A20880%2Fa.B%3F"


def test_hand_written_escapes_in_values_agree_with_the_reference_path() -> None:
    values = [
        "%E4%B8%AD%E6%96%87",  # UTF-8 text: many escapes in a row
        "%C3%A9%C3%28%C3%FFx",  # not UTF-8: U+FFFD and one invalid-utf8 warning
        "%E4%B8%AD%E6%96%87%C3",
        "a\\%E4%B8%AD%E6%96%87",  # a literal backslash beside the escapes
        "%5C%78%41%42%43",  # an escaped backslash-x: text, never an escape itself
        "%e4%b8%ad%e6%96%87",  # lower case: accepted with a warning
        "%E4%B8%AD%E6%96%8",  # malformed: an error
        "%E4%B8+%AD%E6%96%87%2B%25",
    ]
    for value in values:
        for other in ("", "%26w%3D%C3%A9%C3%A9", "%26default.k%3D%E4%B8%AD%E6%96%87"):
            _same(f"{_BODY}v%3D{value}{other}", None)
    decoded = decode_node(f"{_BODY}v%3D%E4%B8%AD%E6%96%87%26w%3D%C3%28%C3%A9%C3%A9")
    assert decoded.url is not None
    assert dict(decoded.url.params) == {"v": "中文", "w": "\ufffd(éé"}
    assert [w.code for w in decoded.warnings] == ["invalid-utf8"]
    decoded = decode_node(f"{_BODY}v%3D%5C%78%41%42%43%44")
    assert decoded.url is not None
    assert decoded.url.params["v"] == "\\xABCD"
