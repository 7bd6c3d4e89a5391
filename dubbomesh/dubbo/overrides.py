"""Dubbo override rules (configurators): which provider endpoints they disable or re-weight.

Why this module exists: operators steer Dubbo traffic with overrides (``override://`` children of
``/<root>/<iface>/configurators`` and the YAML rules of Dubbo 2.7+ under ``/<root>/config/dubbo``).
A mesh that ignores them keeps sending traffic to providers the operator switched off. The matching
rules below restate Java's ``AbstractConfigurator`` (``shared/reference/dubbo-registry.md`` s.3):

- a rule is ignored when ``enabled=false``, when it carries ``compatible_config`` (2.6 consumers
  only), when it targets consumers (``side=consumer``, or a legacy URL whose host is a concrete IP
  WITHOUT a port: that host is a consumer address), or when it sets neither ``disabled`` nor
  ``weight`` (the only effects a mesh honours);
- host ``0.0.0.0`` matches every provider; a concrete host matches that provider address, and a
  port (when present) must equal the provider's port;
- interface equal or ``*``; legacy URL rules need group and version EQUAL to the service's (a rule
  without version never touches a versioned service); YAML rules restrict group/version only when
  their key names one; ``application`` (unless ``*``), ``providerAddresses`` and ``~key=value``
  conditions must match too;
- rules apply in Java's order: sorted by host string, then ascending ``priority``; later wins, so
  host-specific rules beat ``0.0.0.0`` ones. Legacy URL rules apply first, then application YAML,
  then service YAML (``RegistryDirectory.overrideWithConfigurator``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from dubbomesh.dubbo.model import Endpoint
from dubbomesh.dubbo.url import DubboUrl

ANYHOST = "0.0.0.0"
_CONDITION_KEYS = frozenset(
    {"category", "check", "dynamic", "enabled", "group", "version", "application", "side",
     "configVersion", "compatible_config", "interfaces", "anyhost", "priority", "interface",
     "providerAddresses", "timestamp", "pid"}
)  # fmt: skip


class OverrideError(ValueError):
    """A rule document that cannot be read; the builder reports it and keeps no rule for it."""


@dataclass(frozen=True, slots=True)
class OverrideRule:
    """One configurator reduced to what matters for provider endpoints."""

    interface: str
    """``*`` matches every interface."""
    group: str = ""
    version: str = ""
    host: str = ANYHOST
    """Unbracketed; ``0.0.0.0`` (or empty) means every provider host."""
    port: int = 0
    side: str = ""
    config_version: str = ""
    """Non-empty for Dubbo 2.7+ YAML rules (they follow the newer matching branch)."""
    application: str = ""
    provider_addresses: frozenset[str] = frozenset()
    conditions: tuple[tuple[str, str], ...] = ()
    """``~key=value`` conditions on the provider's params."""
    priority: int = 0
    enabled: bool = True
    compatible: bool = False
    weight: int | None = None
    disabled: bool | None = None
    tiebreak: str = ""
    """Deterministic order among rules Java would leave in arbitrary order (node name...)."""

    @property
    def sort_key(self) -> tuple[str, int, str]:
        """Java's ``Configurator.compareTo``: host string, then priority (then our tiebreak)."""
        return (self.host or ANYHOST, self.priority, self.tiebreak)

    @property
    def effective(self) -> bool:
        """True when the rule can change a provider endpoint at all."""
        if not self.enabled or self.compatible or self.side == "consumer":
            return False
        if self.weight is None and self.disabled is None:
            return False
        if self.config_version:
            return self.side == "provider"
        # Legacy URL rule: a concrete host without a port names a consumer.
        return self.port != 0 or self.host in ("", ANYHOST)

    def matches(self, ep: Endpoint) -> bool:
        """Whether this rule applies to ``ep`` (assumes :attr:`effective`)."""
        sid = ep.service
        if self.interface not in ("*", sid.interface):
            return False
        if self.config_version:
            if self.group and self.group != sid.group:
                return False
            if self.version and self.version != sid.version:
                return False
        elif self.group != sid.group or self.version != sid.version:
            return False
        if self.host not in ("", ANYHOST) and self.host != ep.address:
            return False
        if self.port and self.port != ep.port:
            return False
        if self.provider_addresses and not (
            f"{ep.address}:{ep.port}" in self.provider_addresses
            or ANYHOST in self.provider_addresses
        ):
            return False
        if self.application not in ("", "*") and self.application != ep.application:
            return False
        return all(v == "*" or v == ep.param(k) for k, v in self.conditions)


def _bool(text: str) -> bool:
    return text.strip().lower() == "true"


def _int(text: str) -> int | None:
    text = text.strip()
    if text.lstrip("+-").isdigit() and len(text) <= 10:
        return max(int(text), 0)
    return None


def _effects(params: Mapping[str, str]) -> tuple[int | None, bool | None]:
    weight = _int(params["weight"]) if "weight" in params else None
    disabled = _bool(params["disabled"]) if "disabled" in params else None
    return weight, disabled


def rule_from_url(url: DubboUrl, *, tiebreak: str = "") -> OverrideRule | None:
    """The rule an ``override://`` URL stands for; None for other protocols."""
    if url.protocol != "override":
        return None
    params = url.params
    weight, disabled = _effects(params)
    conditions = tuple(
        sorted((k[1:], v) for k, v in params.items() if k.startswith("~") and len(k) > 1)
    )
    providers = frozenset(
        a.strip() for a in params.get("providerAddresses", "").split(",") if a.strip()
    )
    return OverrideRule(
        interface=url.interface or "*",
        group=url.group,
        version=url.version,
        host=url.endpoint_address or ANYHOST,
        port=url.port,
        side=url.side,
        config_version=url.param("configVersion"),
        application=url.param("application", url.username),
        provider_addresses=providers,
        conditions=conditions,
        priority=_int(params.get("priority", "0")) or 0,
        enabled=url.param("enabled", "true").lower() != "false",
        compatible="compatible_config" in params,
        weight=weight,
        disabled=disabled,
        tiebreak=tiebreak,
    )


def clears_rules(url: DubboUrl) -> bool:
    """``empty://`` or a bare ``override://0.0.0.0`` without effect params: clear every rule."""
    if url.protocol == "empty":
        return True
    if url.protocol != "override" or url.endpoint_address not in ("", ANYHOST):
        return False
    return not any(k not in _CONDITION_KEYS for k in url.params)


# ------------------------------------------------------------------ YAML (Dubbo 2.7+) rules


def _split_service(key: str) -> tuple[str, str, str]:
    """``[group/]interface[:version]`` -> (interface, group, version), as ConfigParser reads it."""
    group = version = ""
    slash = key.find("/")
    if slash > 0:
        group, key = key[:slash], key[slash + 1 :]
    colon = key.find(":")
    if colon > 0:
        key, version = key[:colon], key[colon + 1 :]
    return key, group, version


def _split_address(text: str) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if port and not port.isdigit():
        raise OverrideError(f"invalid address {text!r}")
    return host or ANYHOST, int(port) if port else 0


def _strings(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return [str(v) for v in value]
    raise OverrideError(f"{what} must be a list of strings")


def rules_from_document(doc: object, *, name: str = "") -> tuple[OverrideRule, ...]:
    """The provider-side rules of one YAML configurator document (already parsed to plain data).

    Raises :class:`OverrideError` when the document is not a configurator. Items with a v3.0
    ``match`` block are not supported and raise too (applying them partially could disable the
    wrong providers).
    """
    if not isinstance(doc, dict):
        raise OverrideError("a configurator document must be a mapping")
    if str(doc.get("enabled", True)).lower() == "false":
        return ()
    scope, key = str(doc.get("scope", "")), str(doc.get("key", ""))
    if scope not in ("service", "application") or not key:
        raise OverrideError(f"scope must be service or application with a key, got {scope!r}")
    configs = doc.get("configs") or []
    if not isinstance(configs, list):
        raise OverrideError("configs must be a list")
    version_tag = str(doc.get("configVersion") or "v2.7")
    rules: list[OverrideRule] = []
    for index, item in enumerate(configs):
        if not isinstance(item, dict):
            raise OverrideError(f"configs[{index}] must be a mapping")
        if item.get("match"):
            raise OverrideError(f"configs[{index}] uses 'match' (v3.0 matchers): not supported")
        params = item.get("parameters") or {}
        if not isinstance(params, dict):
            raise OverrideError(f"configs[{index}].parameters must be a mapping")
        weight, disabled = _effects({str(k): str(v) for k, v in params.items()})
        if scope == "service":
            services = [key]
            apps = _strings(item.get("applications"), "applications") or [""]
        else:
            services = _strings(item.get("services"), "services") or ["*"]
            apps = [key]
        providers = frozenset(_strings(item.get("providerAddresses"), "providerAddresses"))
        for address in _strings(item.get("addresses"), "addresses") or [ANYHOST]:
            host, port = _split_address(address)
            for service in services:
                iface, group, version = _split_service(service)
                for app in apps:
                    rules.append(
                        OverrideRule(
                            interface=iface or "*",
                            group=group,
                            version=version,
                            host=host,
                            port=port,
                            side=str(item.get("side") or ""),
                            config_version=version_tag,
                            application=app,
                            provider_addresses=providers,
                            enabled=str(item.get("enabled", True)).lower() != "false",
                            weight=weight,
                            disabled=disabled,
                            tiebreak=f"{name}#{index}",
                        )
                    )
    return tuple(rules)


def rule_names_for(ep: Endpoint) -> tuple[str, str]:
    """The ``config/dubbo`` node names whose rules may concern ``ep``: application, then service.

    Service rules live at ``<interface>:<version>:<group>.configurators`` (Java
    ``URL.getColonSeparatedKey``), application rules at ``<application>.configurators``.
    """
    sid = ep.service
    return (
        f"{ep.application}.configurators",
        f"{sid.interface}:{sid.version}:{sid.group}.configurators",
    )


def prepare(rules: Iterable[OverrideRule]) -> tuple[OverrideRule, ...]:
    """Keep the effective rules, in the order Java applies them."""
    return tuple(sorted((r for r in rules if r.effective), key=lambda r: r.sort_key))


@functools.lru_cache(maxsize=8192)
def provider_disabled(params: tuple[tuple[str, str], ...]) -> bool:
    """Whether the provider's own URL params disable it (``disabled`` when present, else
    ``enabled``). Cached: endpoints of one interface share one params tuple."""
    found = dict(params)
    raw_disabled = found.get("disabled", "")
    if raw_disabled:
        return _bool(raw_disabled)
    return (found.get("enabled") or "true").lower() != "true"


def apply_rules(ep: Endpoint, *layers: tuple[OverrideRule, ...]) -> Endpoint | None:
    """``ep`` after every matching rule of each layer (in order); None when it ends up disabled.

    The provider's own URL counts first: ``disabled`` when present, else ``enabled`` (Java's
    ``RegistryDirectory``). Rules may set ``disabled`` (true or false) and ``weight``.
    """
    disabled = provider_disabled(ep.params)
    if not layers:
        return None if disabled else ep
    weight = ep.weight
    for rules in layers:
        for rule in rules:
            if rule.matches(ep):
                if rule.disabled is not None:
                    disabled = rule.disabled
                if rule.weight is not None:
                    weight = rule.weight
    if disabled:
        return None
    return ep if weight == ep.weight else replace(ep, weight=weight)
