"""Where the builder keeps override rules, indexed the way endpoints look them up.

Why this module exists: overrides arrive from two places (``configurators`` children per interface
directory, YAML documents under ``/<root>/config/dubbo``) and are read once per endpoint rebuild.
Keeping them pre-parsed, filtered to the effective ones and pre-sorted in Java's order makes that
lookup a dict access. Rules of every root of one registry are merged (a registry normally has one
root). Each ``on_*`` returns the scope of services the change may affect.
"""

from __future__ import annotations

from dubbomesh.dubbo.overrides import (
    OverrideError,
    OverrideRule,
    clears_rules,
    prepare,
    rule_from_url,
    rules_from_document,
)
from dubbomesh.dubbo.problems import ProblemLog
from dubbomesh.dubbo.registry import ConfigRuleChanged, ConfiguratorsChanged, DirectoryRemoved
from dubbomesh.dubbo.url import UrlError, decode_component, decode_node

Scope = tuple[str, str]
"""("interface", name) | ("service", service key) | ("application", name) | ("none", "")."""

RULE_SUFFIX = ".configurators"


def _interface_of(directory: str) -> str:
    try:
        return decode_component(directory)[0]
    except UrlError:
        return directory


def scope_of_rule_name(name: str) -> Scope:
    """The services a ``config/dubbo/<name>`` node may concern.

    ``<interface>:<version>:<group>.configurators`` is a service rule, ``<app>.configurators`` an
    application rule; other suffixes (routers) do not concern endpoints.
    """
    if not name.endswith(RULE_SUFFIX):
        return ("none", "")
    stem = name[: -len(RULE_SUFFIX)]
    if ":" not in stem:
        return ("application", stem)
    parts = stem.rsplit(":", 2)
    iface, version, group = [*parts, "", ""][:3]
    key = f"{group}/{iface}" if group else iface
    return ("service", f"{key}:{version}" if version else key)


class RuleBook:
    """Effective override rules by (registry, interface) and by (registry, YAML node name)."""

    def __init__(self, log: ProblemLog) -> None:
        self._log = log
        self._url: dict[tuple[str, str], dict[tuple[str, str], tuple[OverrideRule, ...]]] = {}
        self._url_merged: dict[tuple[str, str], tuple[OverrideRule, ...]] = {}
        self._yaml: dict[tuple[str, str], dict[str, tuple[OverrideRule, ...]]] = {}
        self._yaml_merged: dict[tuple[str, str], tuple[OverrideRule, ...]] = {}
        self._ruled_dirs: set[tuple[str, str, str]] = set()
        """(registry, root, directory) of every configurators directory holding rules now."""

    def has_rules(self, registry: str) -> bool:
        """False when ``registry`` has no effective rule at all (the common fast path)."""
        return any(k[0] == registry for k in self._url_merged) or any(
            k[0] == registry for k in self._yaml_merged
        )

    def url_rules(self, registry: str, interface: str) -> tuple[OverrideRule, ...]:
        return self._url_merged.get((registry, interface), ())

    def yaml_rules(self, registry: str, name: str) -> tuple[OverrideRule, ...]:
        return self._yaml_merged.get((registry, name), ())

    def on_configurators(self, ev: ConfiguratorsChanged) -> Scope:
        if not ev.children and (ev.registry, ev.root, ev.directory) not in self._ruled_dirs:
            return ("none", "")  # empty and without rules before: a first listing's usual case
        rules: list[OverrideRule] = []
        cleared = False
        for name in sorted(ev.children):
            decoded = decode_node(name)
            url = decoded.url
            if url is None:
                subject = f"/{ev.root}/{ev.directory}/configurators/{name}"
                self._log.add("bad-rule", ev.registry, subject, decoded.error or "")
                continue
            if clears_rules(url):
                cleared = True
                continue
            rule = rule_from_url(url, tiebreak=name)
            if rule is not None:
                rules.append(rule)
        return self._set_url(ev.registry, ev.root, ev.directory, () if cleared else tuple(rules))

    def on_directory_removed(self, ev: DirectoryRemoved) -> Scope:
        return self._set_url(ev.registry, ev.root, ev.directory, ())

    def _set_url(
        self, registry: str, root: str, directory: str, rules: tuple[OverrideRule, ...]
    ) -> Scope:
        iface = _interface_of(directory)
        key = (registry, iface)
        per_dir = self._url.setdefault(key, {})
        before = self._url_merged.get(key, ())
        if rules:
            per_dir[(root, directory)] = rules
            self._ruled_dirs.add((registry, root, directory))
        else:
            per_dir.pop((root, directory), None)
            self._ruled_dirs.discard((registry, root, directory))
        merged = prepare(r for part in per_dir.values() for r in part)
        if merged:
            self._url_merged[key] = merged
        else:
            self._url_merged.pop(key, None)
        if not per_dir:
            del self._url[key]
        return ("interface", iface) if merged != before else ("none", "")

    def on_config_rule(self, ev: ConfigRuleChanged) -> Scope:
        scope = scope_of_rule_name(ev.name)
        if scope[0] == "none":
            return scope
        rules: tuple[OverrideRule, ...] = ()
        subject = f"/{ev.root}/config/dubbo/{ev.name}"
        if ev.error:
            self._log.add("bad-rule", ev.registry, subject, ev.error)
        elif ev.document is not None:
            try:
                rules = rules_from_document(ev.document, name=ev.name)
            except OverrideError as exc:
                self._log.add("bad-rule", ev.registry, subject, str(exc))
        key = (ev.registry, ev.name)
        per_root = self._yaml.setdefault(key, {})
        before = self._yaml_merged.get(key, ())
        if rules:
            per_root[ev.root] = rules
        else:
            per_root.pop(ev.root, None)
        merged = prepare(r for part in per_root.values() for r in part)
        if merged:
            self._yaml_merged[key] = merged
        else:
            self._yaml_merged.pop(key, None)
        if not per_root:
            del self._yaml[key]
        return scope if merged != before else ("none", "")
