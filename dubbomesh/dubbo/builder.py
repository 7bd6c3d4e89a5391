"""The catalog builder: registry events in, an immutable versioned :class:`Catalog` out.

Why this module exists: the ZooKeeper adapter reports the full state of one directory at a time;
the publishers want one consistent, versioned catalog. The builder sits between them, single-owner
and pure (no IO, no clock), and does the least work per change so that 10,000 interfaces x 10
providers stay cheap:

- child names are decoded once and memoized per directory, by
  :class:`~dubbomesh.dubbo.directories.ProviderDirectories`, which reports only the endpoints a
  listing added or removed (a one-node change decodes one name);
- an event only marks the services it touched; :meth:`CatalogBuilder.snapshot` rebuilds those
  and hands them to :class:`~dubbomesh.dubbo.servicetable.ServiceTable`, which reuses every other
  :class:`Service` object and updates the catalog version and order incrementally;
- per endpoint we keep one frozen :class:`Endpoint` with interned parts, nothing else.

What a service publishes (filter, overrides, disabled endpoints, one record per address) is
decided by :class:`~dubbomesh.dubbo.assembly.ServiceAssembler`; the builder tells it where the
service's endpoints are listed: interface-level directories, app-level discovery
(:class:`~dubbomesh.dubbo.appdiscovery.AppDiscovery`), in any of the configured registries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from dubbomesh.dubbo.appdiscovery import AppDiscovery, AppKey
from dubbomesh.dubbo.assembly import ServiceAssembler
from dubbomesh.dubbo.directories import DirKey, NameKey, ProviderDirectories, name_key
from dubbomesh.dubbo.filters import ServiceFilter
from dubbomesh.dubbo.model import VOLATILE_PARAMS, Catalog, Endpoint, Service, ServiceId
from dubbomesh.dubbo.overrides import OverrideRule
from dubbomesh.dubbo.problems import BuildProblem, ProblemLog
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
from dubbomesh.dubbo.servicetable import ServiceTable

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
        self._assembler = ServiceAssembler(
            self._rules,
            self._registries,
            wanted=self.policy.filter,
            apply_overrides=self.policy.apply_overrides,
        )
        self._apps = AppDiscovery(
            self._log,
            allow_loopback=self.policy.allow_loopback,
            volatile=self.policy.volatile_params,
        )
        self._app_eps: dict[AppKey, dict[ServiceId, tuple[Endpoint, ...]]] = {}
        self._table = ServiceTable()
        self._dirty: set[ServiceId] = set()
        self._dirty_apps: set[AppKey] = set()
        self._events = self._snapshots = self._rebuilt = 0

    # ------------------------------------------------------------------ events

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
        last = self._table.catalog
        if not self._dirty and last is not None and last.complete == complete:
            return last
        self._snapshots += 1
        self._rebuilt = len(self._dirty)
        self._assembler.begin()
        touched = list(self._dirty)
        self._table.update(map(self._build, touched))
        self._dirty.clear()
        if self._providers.compact_due:  # drop the interned parts of dead endpoints
            self._providers.compact(also=self._app_endpoints())
        return self._table.publish(complete, frozenset(touched))

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
        return self._assembler.build(sid, self._listings(sid))

    def _listings(self, sid: ServiceId) -> Iterator[Iterable[Endpoint]]:
        """The endpoints of ``sid`` each of its sources lists, source by source."""
        for src in self._sources.get(sid, ()):
            if len(src) == 3:
                yield [
                    ep
                    for ep in self._providers.endpoints_of(src)
                    if ep is not None and (ep.service is sid or ep.service == sid)
                ]
            else:
                yield self._app_eps.get(src, {}).get(sid, ())

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
            services=len(self._table),
            endpoints=self._table.endpoint_count,
            provider_nodes=self._providers.provider_nodes,
            instances=self._apps.instance_count,
            problems=self.problem_counts,
        )

    def rules_for(self, ep: Endpoint) -> tuple[OverrideRule, ...]:
        """Every effective rule that matches ``ep`` (debugging aid)."""
        return self._assembler.rules_for(ep)
