"""The catalog builder: registry events in, an immutable versioned :class:`Catalog` out.

Why this module exists: the ZooKeeper adapter reports the full state of one directory at a time;
the publishers want one consistent, versioned catalog. The builder sits between them, single-owner
and pure (no IO, no clock), and does the least work per change so that 10,000 interfaces x 10
providers stay cheap:

- child names are decoded once and memoized per directory, by
  :class:`~dubbomesh.dubbo.directories.ProviderDirectories`, which reports only the endpoints a
  listing added or removed (a one-node change decodes one name);
- an event only marks the services it touched; :meth:`CatalogBuilder.snapshot` rebuilds those and
  reuses every other :class:`Service` object (and so its version) unchanged; the catalog version is
  an order-independent sum updated per changed service, and the sorted service order is only
  rebuilt when the SET of services changes, so a one-provider change costs O(1) plus one C-level
  copy of the service table;
- per endpoint we keep one frozen :class:`Endpoint` with interned parts, nothing else.

Meaning (``shared/reference/dubbo-registry.md``): volatile params never enter an endpoint, so a
provider restart that only changes ``timestamp``/``pid`` yields the same catalog version; overrides
(:mod:`dubbomesh.dubbo.overrides`) disable or re-weight endpoints; disabled endpoints (override
``disabled=true``, provider ``enabled=false``, Curator ``enabled:false``) are absent; an endpoint
seen both at interface and at instance level (or in two registries) appears once, preferring the
interface-level record, then the registry that sorts first. Weight: override, else URL, else 100.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dubbomesh.dubbo.appdiscovery import AppDiscovery, AppKey
from dubbomesh.dubbo.directories import DirKey, NameKey, ProviderDirectories, name_key
from dubbomesh.dubbo.filters import ServiceFilter
from dubbomesh.dubbo.model import (
    VOLATILE_PARAMS,
    Catalog,
    Endpoint,
    Service,
    ServiceId,
    Source,
    VersionSum,
)
from dubbomesh.dubbo.overrides import (
    OverrideRule,
    apply_rules,
    provider_disabled,
    rule_names_for,
)
from dubbomesh.dubbo.problems import BuildProblem, ProblemLog
from dubbomesh.dubbo.querymemo import QueryMemo
from dubbomesh.dubbo.registry import (
    BadNode,
    ConfigRuleChanged,
    ConfiguratorsChanged,
    DirectoryRemoved,
    InstancesChanged,
    ListingComplete,
    MappingChanged,
    MetadataChanged,
    ProvidersChanged,
    RegistryEvent,
)
from dubbomesh.dubbo.rules import RuleBook

__all__ = [
    "BuildPolicy",
    "BuildStats",
    "CatalogBuilder",
    "DirKey",
    "NameKey",
    "UnknownRegistryError",
    "name_key",
]

SourceKey = DirKey | AppKey


_SERIALS = itertools.count(1)
"""Snapshot serial numbers, unique in the process (several builders may feed one renderer)."""


class UnknownRegistryError(ValueError):
    """An event named a registry the builder was not configured with (a wiring bug)."""


@dataclass(frozen=True, slots=True)
class BuildPolicy:
    """How the builder treats doubtful data."""

    allow_loopback: bool = False
    """Publish ``127.*``/``localhost``/``::1`` providers (demos and tests only)."""
    volatile_params: frozenset[str] = VOLATILE_PARAMS
    """Params dropped from every endpoint (they change on each restart)."""
    apply_overrides: bool = True
    """Honour configurators and YAML rules (``disabled``, ``weight``)."""
    filter: ServiceFilter = field(default_factory=ServiceFilter)
    """Which interfaces and provider applications this agent publishes (default: all)."""


@dataclass(frozen=True, slots=True)
class BuildStats:
    """Figures for metrics and the debug page."""

    events: int
    snapshots: int
    rebuilt_last: int
    """Services recomputed by the last snapshot that did any work."""
    services: int
    endpoints: int
    provider_nodes: int
    instances: int
    problems: dict[str, int]
    """Monotonic counts by problem code."""


def _sort_key(item: tuple[ServiceId, Service]) -> tuple[str, str, str]:
    sid = item[0]
    return (sid.interface, sid.group, sid.version)  # ServiceId's own order, compared in C


def _preference(ep: Endpoint) -> tuple[bool, str, str, int, tuple[tuple[str, str], ...]]:
    return (ep.source is not Source.INTERFACE, ep.registry, ep.application, ep.weight, ep.params)


class CatalogBuilder:
    """Single-owner, mutable; feed it with :meth:`apply`, read it with :meth:`snapshot`."""

    def __init__(self, registries: Iterable[str], policy: BuildPolicy | None = None) -> None:
        self._registries = frozenset(registries)
        if not self._registries:
            raise ValueError("a CatalogBuilder needs at least one registry name")
        self.policy = policy or BuildPolicy()
        self._listed: set[str] = set()
        self._log = ProblemLog()
        self._providers = ProviderDirectories(
            self._log,
            allow_loopback=self.policy.allow_loopback,
            volatile=self.policy.volatile_params,
        )
        self._sources: dict[ServiceId, set[SourceKey]] = {}
        self._rules = RuleBook(self._log)
        self._apps = AppDiscovery(
            self._log,
            allow_loopback=self.policy.allow_loopback,
            volatile=self.policy.volatile_params,
        )
        self._app_eps: dict[AppKey, dict[ServiceId, tuple[Endpoint, ...]]] = {}
        self._services: dict[ServiceId, Service] = {}
        """Every non-empty service, kept in sorted order (rebuilt only when the set changes)."""
        self._versions = VersionSum()
        self._ruled: set[str] = set()
        """Registries with effective override rules (recomputed per snapshot)."""
        self._dirty: set[ServiceId] = set()
        self._dirty_apps: set[AppKey] = set()
        self._catalog: Catalog | None = None
        self._events = self._snapshots = self._rebuilt = 0

    # ------------------------------------------------------------------ events

    @property
    def _dirs(self) -> Mapping[DirKey, Mapping[NameKey, Endpoint | None]]:
        """The directory memo (tests look at what it keeps)."""
        return self._providers.names

    @property
    def _memo(self) -> QueryMemo:
        """The query memo (tests read its hit count)."""
        return self._providers.memo

    @property
    def complete(self) -> bool:
        """True once every configured registry finished a listing."""
        return self._listed >= self._registries

    def apply(self, event: RegistryEvent) -> None:
        """Fold one event into the state (idempotent: the same event twice changes nothing)."""
        if event.registry not in self._registries:
            raise UnknownRegistryError(f"event from unconfigured registry {event.registry!r}")
        self._events += 1
        match event:
            case ProvidersChanged():
                self._set_providers((event.registry, event.root, event.directory), event.children)
            case ConfiguratorsChanged():
                self._touch(self._rules.on_configurators(event), event.registry)
            case DirectoryRemoved():
                self._set_providers((event.registry, event.root, event.directory), frozenset())
                self._touch(self._rules.on_directory_removed(event), event.registry)
            case ConfigRuleChanged():
                self._touch(self._rules.on_config_rule(event), event.registry)
            case InstancesChanged():
                self._dirty_apps |= self._apps.on_instances(event)
            case MappingChanged():
                self._dirty_apps |= self._apps.on_mapping(event)
            case MetadataChanged():
                self._dirty_apps |= self._apps.on_metadata(event)
            case ListingComplete():
                self._listed.add(event.registry)
            case BadNode():
                self._log.add("bad-node", event.registry, event.path, event.reason)

    def _set_providers(self, key: DirKey, children: frozenset[str]) -> None:
        change = self._providers.set(key, children)
        if change is None:
            return
        added, removed, emptied = change
        if added:
            for sid in {ep.service for ep in added}:
                self._sources.setdefault(sid, set()).add(key)
                self._dirty.add(sid)
            if self._apps.templated:
                for ep in added:
                    self._changed_endpoint(ep)
        for sid in emptied:
            self._unsource(sid, key)
        for ep in removed:
            self._changed_endpoint(ep)

    def _changed_endpoint(self, ep: Endpoint) -> None:
        self._dirty.add(ep.service)
        app_key = (ep.registry, ep.application)
        if app_key in self._apps.templated:
            self._dirty_apps.add(app_key)

    def _unsource(self, sid: ServiceId, key: SourceKey) -> None:
        sources = self._sources.get(sid)
        if sources is not None:
            sources.discard(key)
            if not sources:
                del self._sources[sid]

    def _touch(self, scope: tuple[str, str], registry: str) -> None:
        """Mark services a rule change may affect: ("interface", name), ("service", key) or
        ("application", name)."""
        kind, value = scope
        if kind == "interface":
            self._dirty.update(s for s in self._sources if s.interface == value)
        elif kind == "service":
            self._dirty.update(s for s in self._sources if s.key == value)
        elif kind == "application":
            for ep in self._raw_endpoints(registry):
                if ep.application == value:
                    self._dirty.add(ep.service)

    def _raw_endpoints(self, registry: str | None = None) -> Iterable[Endpoint]:
        yield from self._providers.raw_endpoints(registry)
        yield from self._app_endpoints(registry)

    def _app_endpoints(self, registry: str | None = None) -> Iterable[Endpoint]:
        for (reg, _), by_sid in self._app_eps.items():
            if registry is None or reg == registry:
                for eps in by_sid.values():
                    yield from eps

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> Catalog:
        """The catalog now; the same object as last time when nothing changed."""
        if self._dirty_apps:
            self._rebuild_apps()
        complete = self.complete
        if not self._dirty and self._catalog is not None and self._catalog.complete == complete:
            return self._catalog
        self._snapshots += 1
        self._rebuilt = len(self._dirty)
        self._ruled = (
            {r for r in self._registries if self._rules.has_rules(r)}
            if self.policy.apply_overrides
            else set()
        )
        services, versions = self._services, self._versions
        reorder = False
        touched = list(self._dirty)
        for sid in touched:
            service = self._build(sid)
            prior = services.get(sid)
            if prior is not None:
                if service.version == prior.version:
                    continue  # same content: keep the old object (consumers compare identity)
                versions.remove(sid.key, prior.version)
            if service.endpoints:
                services[sid] = service  # an existing key keeps its (sorted) position
                versions.add(sid.key, service.version)
                reorder = reorder or prior is None
            elif prior is not None:
                del services[sid]  # deleting keeps the others in order
        self._dirty.clear()
        if reorder:  # new keys were appended: one sorted run plus a tail, merged in C
            self._services = dict(sorted(services.items(), key=_sort_key))
        if self._providers.compact_due:  # drop the interned parts of dead endpoints
            self._providers.compact(also=self._app_endpoints())
        previous = self._catalog.serial if self._catalog is not None else 0
        self._catalog = Catalog(
            MappingProxyType(dict(self._services)),
            versions.version,
            complete,
            False,
            serial=next(_SERIALS),
            since=(previous, frozenset(touched)) if previous else None,
        )
        return self._catalog

    def _rebuild_apps(self) -> None:
        for key in sorted(self._dirty_apps):
            old = self._app_eps.pop(key, {})
            new = self._apps.endpoints(key, self._template)
            if new:
                self._app_eps[key] = new
            for sid in old.keys() - new.keys():
                self._unsource(sid, key)
            for sid, eps in new.items():
                self._sources.setdefault(sid, set()).add(key)
                if old.get(sid) != eps:
                    self._dirty.add(sid)
            self._dirty.update(old.keys() - new.keys())
        self._dirty_apps.clear()

    def _template(self, registry: str, app: str, interface: str) -> set[tuple[ServiceId, str]]:
        found: set[tuple[ServiceId, str]] = set()
        for sid, sources in self._sources.items():
            if sid.interface != interface:
                continue
            for src in sources:
                if len(src) == 3 and src[0] == registry:
                    for ep in self._providers.endpoints_of(src):
                        if ep is not None and ep.service == sid and ep.application == app:
                            found.add((sid, ep.protocol))
        return found

    def _build(self, sid: ServiceId) -> Service:
        best: dict[tuple[str, str, int, str], Endpoint] = {}
        wanted = self.policy.filter
        if wanted.active and not wanted.service(sid):
            return Service.create(sid, ())
        check_app = wanted.active and bool(
            wanted.include_applications or wanted.exclude_applications
        )
        ruled = self._ruled
        key = sid.key
        last_params: object = None  # endpoints of a service mostly share one params tuple
        last_disabled = False
        for src in self._sources.get(sid, ()):
            if len(src) == 3:
                eps: Iterable[Endpoint] = [
                    ep
                    for ep in self._providers.endpoints_of(src)
                    if ep is not None and (ep.service is sid or ep.service == sid)
                ]
            else:
                eps = self._app_eps.get(src, {}).get(sid, ())
            for ep in eps:
                if check_app and not wanted.application(ep.application):
                    continue
                if ep.registry in ruled:
                    final = self._override(ep)
                    if final is None:
                        continue
                else:
                    if ep.params is not last_params:
                        last_params, last_disabled = ep.params, provider_disabled(ep.params)
                    if last_disabled:
                        continue
                    final = ep
                identity = (final.protocol, final.address, final.port, key)  # final.identity
                prior = best.setdefault(identity, final)
                if prior is not final and _preference(final) < _preference(prior):
                    best[identity] = final
        return Service.from_unique(sid, best)

    def _override(self, ep: Endpoint) -> Endpoint | None:
        app_name, service_name = rule_names_for(ep)
        return apply_rules(
            ep,
            self._rules.url_rules(ep.registry, ep.service.interface),
            self._rules.yaml_rules(ep.registry, app_name),
            self._rules.yaml_rules(ep.registry, service_name),
        )

    # ------------------------------------------------------------------ observability

    def problems(self) -> tuple[BuildProblem, ...]:
        """Recent examples of skipped or doubtful data (bounded)."""
        return self._log.recent()

    @property
    def problem_counts(self) -> dict[str, int]:
        """Problems by reason code so far (monotonic; cheap, unlike :attr:`stats`)."""
        return dict(self._log.counts)

    @property
    def stats(self) -> BuildStats:
        return BuildStats(
            events=self._events,
            snapshots=self._snapshots,
            rebuilt_last=self._rebuilt,
            services=len(self._services),
            endpoints=sum(len(s.endpoints) for s in self._services.values()),
            provider_nodes=self._providers.provider_nodes,
            instances=self._apps.instance_count,
            problems=self.problem_counts,
        )

    def rules_for(self, ep: Endpoint) -> tuple[OverrideRule, ...]:
        """Every effective rule that matches ``ep`` (debugging aid)."""
        app_name, service_name = rule_names_for(ep)
        layers = (
            self._rules.url_rules(ep.registry, ep.service.interface),
            self._rules.yaml_rules(ep.registry, app_name),
            self._rules.yaml_rules(ep.registry, service_name),
        )
        return tuple(r for layer in layers for r in layer if r.matches(ep))
