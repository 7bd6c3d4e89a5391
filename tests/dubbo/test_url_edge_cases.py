"""Edge cases of the URL value and codec that the table does not show one by one."""

from __future__ import annotations

import pytest

from dubbomesh.dubbo.model import ServiceId
from dubbomesh.dubbo.protocols import (
    ENDPOINT_PROTOCOLS,
    NON_ENDPOINT_PROTOCOLS,
    default_port,
    is_endpoint_protocol,
)
from dubbomesh.dubbo.url import (
    Decoded,
    DecodeWarning,
    DubboUrl,
    UrlError,
    decode_any,
    decode_component,
    decode_node,
    encode_component,
    encode_node,
    parse_url,
)


def test_encode_component_follows_java_urlencoder() -> None:
    assert encode_component("a b*c~d.e-f_g") == "a+b*c%7Ed.e-f_g"
    assert (
        encode_component("dubbo://h:1/p?k=v&x=y,z") == "dubbo%3A%2F%2Fh%3A1%2Fp%3Fk%3Dv%26x%3Dy%2Cz"
    )
    assert encode_component("é中") == "%C3%A9%E4%B8%AD"
    assert encode_component("\udc80") == "%3F"  # Java writes '?' for an unpaired surrogate


def test_decode_component_java_urldecoder() -> None:
    assert decode_component("a+b%2Bc") == ("a b+c", ())
    assert decode_component("%E4%B8%AD%25") == ("中%", ())
    assert decode_component("plain") == ("plain", ())


@pytest.mark.parametrize("text", ["%", "%4", "abc%zz", "%%41", "%4g"])
def test_malformed_escapes_raise(text: str) -> None:
    with pytest.raises(UrlError, match="malformed escape"):
        decode_component(text)


def test_lowercase_and_invalid_utf8_are_warnings() -> None:
    text, warnings = decode_component("%3a%2f")
    assert text == ":/"
    assert [w.code for w in warnings] == ["lowercase-escape"]
    text, warnings = decode_component("%C3")
    assert text == "\ufffd"
    assert [w.code for w in warnings] == ["invalid-utf8"]


def test_decoded_once_only() -> None:
    # %2526 is an encoded "%26": one decode gives "%26", never "&" (no extra param appears).
    decoded = decode_node("dubbo%3A%2F%2F10.0.0.1%3A1%2Fa.B%3Fx%3D1%2526y%253D2")
    assert decoded.url is not None
    assert dict(decoded.url.params) == {"x": "1%26y%3D2"}
    assert [w.code for w in decoded.warnings] == ["encoded-value"]


def test_default_prefix_never_overrides_explicit_value() -> None:
    url = parse_url("dubbo://h:1/p?timeout=1&default.timeout=9&default.retries=3")
    assert url.param("timeout") == "1"
    assert url.param("retries") == "3"


def test_leading_equals_and_empty_parts_follow_java() -> None:
    url = parse_url("dubbo://h:1/p?&&=abc&==&k=v=w&")
    assert dict(url.params) == {"abc": "abc", "k": "v=w"}


def test_interface_falls_back_to_path_and_service_key() -> None:
    url = parse_url("dubbo://h:1/com.acme.Foo?group=&version=")
    assert url.interface == "com.acme.Foo"
    assert url.service_key == "com.acme.Foo"
    assert url.service_id == ServiceId("com.acme.Foo")
    url = parse_url("dubbo://h:1/x?interface=com.acme.Foo&group=g&version=0.0.0")
    assert url.service_key == "g/com.acme.Foo:0.0.0"  # compared literally, as Java does


@pytest.mark.parametrize(
    ("value", "weight"),
    [("", 100), ("50", 50), ("0", 0), ("-5", 0), ("1e3", 100), (" 7", 100), ("+8", 8), ("٣", 100)],
)
def test_weight(value: str, weight: int) -> None:
    assert DubboUrl(params={"weight": value}).weight == weight


@pytest.mark.parametrize(
    ("value", "enabled"),
    [(None, True), ("", True), ("true", True), ("TRUE", True), ("false", False), ("no", False)],
)
def test_enabled_is_java_parse_boolean(value: str | None, enabled: bool) -> None:
    params = {} if value is None else {"enabled": value}
    assert DubboUrl(params=params).enabled is enabled


def test_disabled() -> None:
    assert DubboUrl(params={"disabled": "True"}).disabled
    assert not DubboUrl(params={"disabled": "1"}).disabled
    assert not DubboUrl().disabled


@pytest.mark.parametrize(
    ("value", "ms"),
    [("1593506380", 1593506380000), ("1593506380123", 1593506380123), ("", None), ("abc", None)],
)
def test_timestamp_ms_converts_dubbo_go_seconds(value: str, ms: int | None) -> None:
    assert DubboUrl(params={"timestamp": value}).timestamp_ms == ms


@pytest.mark.parametrize(
    ("host", "port", "address", "loopback", "routable"),
    [
        ("10.0.0.1", 20880, "10.0.0.1", False, True),
        ("provider.acme.internal", 20880, "provider.acme.internal", False, True),
        ("10.0.0.1", 0, "10.0.0.1", False, False),
        ("10.0.0.1", 70000, "10.0.0.1", False, False),
        ("", 20880, "", False, False),
        ("0.0.0.0", 20880, "0.0.0.0", False, False),
        ("LOCALHOST", 20880, "LOCALHOST", True, False),
        ("127.0.0.1", 20880, "127.0.0.1", True, False),
        ("[::1]", 20880, "::1", True, False),
        ("0:0:0:0:0:0:0:1", 20880, "0:0:0:0:0:0:0:1", True, False),
        ("::ffff:127.0.0.1", 20880, "::ffff:127.0.0.1", True, False),
        ("[::]", 20880, "::", False, False),
        ("[2001:db8::1]", 20880, "2001:db8::1", False, True),
        ("fe80::1%eth0", 20880, "fe80::1", False, True),
        ("[fe80::1%25eth0]", 20880, "fe80::1", False, True),
    ],
)
def test_endpoint_address_and_routability(
    host: str, port: int, address: str, loopback: bool, routable: bool
) -> None:
    url = DubboUrl("dubbo", host=host, port=port)
    assert url.endpoint_address == address
    assert url.is_loopback is loopback
    assert url.routable is routable


def test_port_rules() -> None:
    assert parse_url("dubbo://[::1]/p").port == 0  # Java would crash; we read "no port"
    assert parse_url("dubbo://host:/p").host == "host"
    assert parse_url("dubbo://2001:db8::1:20880/p").host == "2001:db8::1"
    for bad in ("dubbo://h:99999999999/p", "dubbo://h:-1/p", "dubbo://[::1]x/p", "dubbo://[::1/p"):
        with pytest.raises(UrlError):
            parse_url(bad)


def test_file_style_protocol_and_missing_protocol() -> None:
    url = parse_url("file:/var/dubbo/registry.cache")
    assert (url.protocol, url.host, url.path) == ("file", "", "var/dubbo/registry.cache")
    with pytest.raises(UrlError, match="missing protocol"):
        parse_url("://h/p")
    with pytest.raises(UrlError, match="empty"):
        parse_url("   ")


def test_to_string_sorts_trims_and_reencodes_nested_keys() -> None:
    url = DubboUrl(
        "override", "u", "p", "10.0.0.1", 20880, "com.acme.Foo",
        {"weight": " 5 ", "rule": "a => b & c", "application": "x"},
    )  # fmt: skip
    assert url.to_string() == (
        "override://u:p@10.0.0.1:20880/com.acme.Foo?application=x&rule=a+%3D%3E+b+%26+c&weight=5"
    )
    assert decode_node(encode_node(url)).url == DubboUrl(
        "override", "u", "p", "10.0.0.1", 20880, "com.acme.Foo",
        {"weight": "5", "rule": "a => b & c", "application": "x"},
    )  # fmt: skip


def test_decoded_to_json_has_exactly_the_cli_fields() -> None:
    fields = {
        "input", "protocol", "host", "port", "path", "interface", "group", "version",
        "service_key", "category", "side", "params", "endpoint_address", "routable",
        "warnings", "error",
    }  # fmt: skip
    ok = decode_any("dubbo://10.0.0.1:20880/com.acme.Foo?side=provider").to_json()
    bad = decode_any("%zz").to_json()
    assert set(ok) == fields
    assert set(bad) == fields
    assert bad["routable"] is False
    assert bad["params"] == {}
    assert Decoded("x", None, (DecodeWarning("c", "t"),), "e").to_json()["warnings"] == [
        {"code": "c", "text": "t"}
    ]


def test_decode_any_keeps_the_original_input_and_trims_for_parsing() -> None:
    text = "  dubbo%3A%2F%2F10.0.0.1%3A20880%2Fa.B\n"
    decoded = decode_any(text)
    assert decoded.input == text
    assert decoded.url is not None
    assert decoded.url.host == "10.0.0.1"


def test_non_endpoint_protocols_get_no_routability_warning() -> None:
    for protocol in sorted(NON_ENDPOINT_PROTOCOLS):
        decoded = decode_any(f"{protocol}://0.0.0.0/com.acme.Foo?category=configurators")
        assert decoded.warnings == (), protocol


def test_protocol_tables() -> None:
    assert default_port("dubbo") == 20880
    assert default_port("tri") == default_port("grpc") == 50051
    assert default_port("thrift") == 40880
    assert {default_port(p) for p in ("rest", "http", "hessian", "webservice")} == {80}
    assert default_port("override") == 0
    assert default_port("nope") == 0
    assert is_endpoint_protocol("jsonrpc")
    assert not is_endpoint_protocol("consumer")
    assert not is_endpoint_protocol("DUBBO")  # Java compares protocol names case-sensitively
    assert not set(ENDPOINT_PROTOCOLS) & NON_ENDPOINT_PROTOCOLS


def test_urls_are_hashable_values() -> None:
    a = parse_url("dubbo://10.0.0.1:20880/com.acme.Foo?b=2&a=1")
    b = parse_url("dubbo://10.0.0.1:20880/com.acme.Foo?a=1&b=2")
    assert a == b
    assert len({a, b}) == 1
    assert a != parse_url("dubbo://10.0.0.1:20880/com.acme.Foo?a=1&b=3")


def test_loopback_endpoints_only_when_allowed() -> None:
    loop = parse_url("dubbo://127.0.0.1:20880/com.acme.Foo")
    assert not loop.is_routable()
    assert loop.is_routable(allow_loopback=True)
    assert not parse_url("dubbo://127.0.0.1/com.acme.Foo").is_routable(allow_loopback=True)
    assert not parse_url("dubbo://0.0.0.0:1/com.acme.Foo").is_routable(allow_loopback=True)
    assert parse_url("dubbo://10.0.0.1:1/com.acme.Foo").is_routable()
