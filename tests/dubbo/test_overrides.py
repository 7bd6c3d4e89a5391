"""Override matching and ordering, as Java's configurators apply them (dubbo-registry.md s.3)."""

from __future__ import annotations

import pytest

from dubbomesh.dubbo.model import Endpoint, ServiceId
from dubbomesh.dubbo.overrides import (
    OverrideError,
    apply_rules,
    clears_rules,
    prepare,
    rule_from_url,
    rules_from_document,
)
from dubbomesh.dubbo.url import parse_url

GLOBAL = "override://0.0.0.0/com.foo.Bar?version=1.0&weight=7"
SID = ServiceId("com.foo.Bar", "", "1.0")
EP = Endpoint(SID, "dubbo", "10.0.0.1", 20880, application="app1", params=(("dubbo.tag", "g"),))


def url_rule(text: str):  # type: ignore[no-untyped-def]
    rule = rule_from_url(parse_url(text), tiebreak=text)
    assert rule is not None
    return rule


@pytest.mark.parametrize(
    ("override", "weight"),
    [
        # global rule (0.0.0.0) matches every provider of the same interface/group/version
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7", 7),
        # ip:port rule targets that provider
        ("override://10.0.0.1:20880/com.foo.Bar?version=1.0&weight=7", 7),
        # another provider's ip:port: no effect
        ("override://10.0.0.2:20880/com.foo.Bar?version=1.0&weight=7", 100),
        # same ip, another port: no effect
        ("override://10.0.0.1:20881/com.foo.Bar?version=1.0&weight=7", 100),
        # host without port names a CONSUMER: no effect on endpoints
        ("override://10.0.0.1/com.foo.Bar?version=1.0&weight=7", 100),
        # version must be equal: a rule without version does not touch a versioned service
        ("override://0.0.0.0/com.foo.Bar?weight=7", 100),
        ("override://0.0.0.0/com.foo.Bar?version=2.0&weight=7", 100),
        # group must be equal
        ("override://0.0.0.0/com.foo.Bar?version=1.0&group=g&weight=7", 100),
        # interface * matches every interface
        ("override://0.0.0.0/*?version=1.0&weight=7", 7),
        ("override://0.0.0.0/com.foo.Other?version=1.0&weight=7", 100),
        # disabled rule, consumer side, 2.6-compat rules are ignored
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&enabled=false", 100),
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&side=consumer", 100),
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&compatible_config=true", 100),
        # application condition
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&application=app1", 7),
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&application=app2", 100),
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&application=*", 7),
        # ~key conditions on provider params
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&~dubbo.tag=g", 7),
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&~dubbo.tag=h", 100),
        # providerAddresses restricts to listed providers
        ("override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&providerAddresses=10.0.0.1:20880", 7),
        (
            "override://0.0.0.0/com.foo.Bar?version=1.0&weight=7&providerAddresses=10.0.0.9:20880",
            100,
        ),
    ],
)
def test_url_rule_matching(override: str, weight: int) -> None:
    result = apply_rules(EP, prepare([url_rule(override)]))
    assert result is not None
    assert result.weight == weight


def test_disabled_removes_and_host_specific_beats_global() -> None:
    glob = url_rule("override://0.0.0.0/com.foo.Bar?version=1.0&disabled=true")
    assert apply_rules(EP, prepare([glob])) is None
    specific = url_rule("override://10.0.0.1:20880/com.foo.Bar?version=1.0&disabled=false")
    # sorted by host: 0.0.0.0 first, the host-specific rule applies later and wins
    assert apply_rules(EP, prepare([specific, glob])) is not None


def test_priority_orders_rules_of_the_same_host() -> None:
    low = url_rule("override://0.0.0.0/com.foo.Bar?version=1.0&weight=1&priority=1")
    high = url_rule("override://0.0.0.0/com.foo.Bar?version=1.0&weight=2&priority=5")
    for order in ([low, high], [high, low]):
        result = apply_rules(EP, prepare(order))
        assert result is not None
        assert result.weight == 2


@pytest.mark.parametrize(
    ("params", "enabled"),
    [
        ((), True),
        ((("enabled", "false"),), False),
        ((("disabled", "true"),), False),
        # disabled, when present, wins over enabled (Java RegistryDirectory)
        ((("disabled", "false"), ("enabled", "false")), True),
    ],
)
def test_provider_url_flags(params: tuple[tuple[str, str], ...], enabled: bool) -> None:
    ep = Endpoint(SID, "dubbo", "10.0.0.1", 20880, params=params)
    assert (apply_rules(ep) is not None) is enabled


def test_override_can_reenable_a_provider_registered_disabled() -> None:
    ep = Endpoint(SID, "dubbo", "10.0.0.1", 20880, params=(("enabled", "false"),))
    rule = url_rule("override://10.0.0.1:20880/com.foo.Bar?version=1.0&disabled=false")
    assert apply_rules(ep, prepare([rule])) is not None


@pytest.mark.parametrize(
    ("text", "clears"),
    [
        ("empty://0.0.0.0/com.foo.Bar?category=configurators", True),
        ("override://0.0.0.0/com.foo.Bar?category=configurators&anyhost=true", True),
        ("override://0.0.0.0/com.foo.Bar?category=configurators&weight=3", False),
        ("override://10.0.0.1:20880/com.foo.Bar?category=configurators", False),
    ],
)
def test_clearing_markers(text: str, clears: bool) -> None:
    assert clears_rules(parse_url(text)) is clears


def test_rules_without_effect_are_dropped() -> None:
    rule = url_rule("override://0.0.0.0/com.foo.Bar?version=1.0&timeout=5000")
    assert prepare([rule]) == ()


YAML_APP = {
    "configVersion": "v2.7",
    "scope": "application",
    "key": "app1",
    "enabled": True,
    "configs": [
        {"addresses": ["10.0.0.1:20880"], "side": "provider", "parameters": {"weight": 1000}},
        {"addresses": ["0.0.0.0"], "side": "consumer", "parameters": {"weight": 1}},
    ],
}


def test_yaml_application_rule() -> None:
    rules = prepare(rules_from_document(YAML_APP, name="app1.configurators"))
    assert len(rules) == 1  # the consumer-side item is ignored
    result = apply_rules(EP, rules)
    assert result is not None
    assert result.weight == 1000
    other_app = Endpoint(SID, "dubbo", "10.0.0.1", 20880, application="app2")
    result = apply_rules(other_app, rules)
    assert result is not None
    assert result.weight == 100


def test_yaml_service_rule_key_group_version() -> None:
    doc = {
        "scope": "service",
        "key": "grp/com.foo.Bar:1.0",
        "configs": [{"side": "provider", "parameters": {"disabled": True}}],
    }
    rules = prepare(rules_from_document(doc))
    assert (
        apply_rules(Endpoint(ServiceId("com.foo.Bar", "grp", "1.0"), "dubbo", "1.1.1.1", 1), rules)
        is None
    )
    assert apply_rules(EP, rules) is not None  # group differs


def test_yaml_host_only_address_targets_that_provider_host() -> None:
    doc = {
        "scope": "service",
        "key": "com.foo.Bar:1.0",
        "configs": [{"side": "provider", "addresses": ["10.0.0.1"], "parameters": {"weight": 5}}],
    }
    rules = prepare(rules_from_document(doc))
    result = apply_rules(EP, rules)
    assert result is not None
    assert result.weight == 5


@pytest.mark.parametrize(
    "doc",
    [
        "text",
        {"scope": "nope", "key": "x"},
        {"scope": "service", "key": "x", "configs": "no"},
        {"scope": "service", "key": "x", "configs": [{"match": {"address": {}}}]},
        {"scope": "service", "key": "x", "configs": [{"addresses": ["1.2.3.4:x"]}]},
    ],
)
def test_bad_documents_raise(doc: object) -> None:
    with pytest.raises(OverrideError):
        rules_from_document(doc)


def test_disabled_document_yields_nothing() -> None:
    assert rules_from_document({**YAML_APP, "enabled": False}) == ()
