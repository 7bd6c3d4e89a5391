"""Hosts and object names: DNS-valid, group never confused with version, shortened with a hash."""

from __future__ import annotations

import pytest

from dubbomesh.mesh.naming import (
    NamingError,
    address_label,
    is_dns_label,
    is_dns_subdomain,
    object_name,
    render_template,
    service_values,
    to_label,
)

TEMPLATE = "{interface}.{group}.{version}.dubbo"


def host(iface: str, group: str = "", version: str = "", template: str = TEMPLATE) -> str:
    return render_template(template, service_values(iface, group, version))


@pytest.mark.parametrize(
    ("iface", "group", "version", "expected"),
    [
        ("com.foo.DemoService", "", "", "com.foo.demoservice.dubbo"),
        ("com.foo.DemoService", "blue", "", "com.foo.demoservice.g-blue.dubbo"),
        ("com.foo.DemoService", "", "1.0.0", "com.foo.demoservice.v-1-0-0.dubbo"),
        ("com.foo.DemoService", "blue", "1.0.0", "com.foo.demoservice.g-blue.v-1-0-0.dubbo"),
        ("com.foo.Outer$Inner", "", "", "com.foo.outer-inner.dubbo"),
        ("com.foo.snake_case", "", "", "com.foo.snake-case.dubbo"),
        ("com..foo", "", "", "com.foo.dubbo"),
    ],
)
def test_default_template(iface: str, group: str, version: str, expected: str) -> None:
    assert host(iface, group, version) == expected
    assert is_dns_subdomain(expected)


def test_group_and_version_never_collide() -> None:
    assert host("a.B", group="x") != host("a.B", version="x")
    assert host("a.B", group="1.0") != host("a.B", version="1.0")


def test_long_labels_and_hosts_are_shortened_with_a_hash() -> None:
    long_seg = "Very" * 30
    h = host(f"com.{long_seg}")
    assert is_dns_subdomain(h)
    assert h != host(f"com.{long_seg}x")
    giant = ".".join(["segment" * 8] * 10)
    assert is_dns_subdomain(host(giant))


def test_unknown_placeholder() -> None:
    with pytest.raises(NamingError):
        render_template("{nope}.dubbo", service_values("a", "", ""))


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("10.0.0.5", "10-0-0-5"),
        ("2001:db8::1", "2001-0db8-0000-0000-0000-0000-0000-0001"),
        ("::1", "0000-0000-0000-0000-0000-0000-0000-0001"),
        ("My_Host", "my-host"),
    ],
)
def test_address_labels(address: str, label: str) -> None:
    assert address_label(address) == label
    assert is_dns_label(label)


def test_object_names_are_labels_with_hash_when_cut() -> None:
    name = object_name("a" * 80 + ".dubbo", "id1")
    assert is_dns_label(name)
    assert len(name) == 63
    assert name != object_name("a" * 80 + ".dubbo", "id2")
    assert object_name("com.foo.bar.dubbo", "x") == "com-foo-bar-dubbo"


@pytest.mark.parametrize("text", ["", "-", "A_B", "x" * 100, "ümlaut", "a--b"])
def test_to_label_always_valid(text: str) -> None:
    assert is_dns_label(to_label(text))
