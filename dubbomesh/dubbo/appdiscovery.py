"""State of Dubbo 3 application-level discovery: instances, MetadataInfo revisions and mappings.

Why this module exists: an application's endpoints depend on three independently changing trees
(``/services/<app>``, ``/<root>/metadata/<app>/<rev>``, ``/<root>/mapping/<iface>``). This class
keeps them, tells the builder which applications a change touched, and turns one application into
endpoints per service:

1. an instance whose MetadataInfo revision is known serves exactly the services listed there;
2. otherwise (``metadata-type=local``: the metadata is only reachable by RPC) the interfaces mapped
   to the application are matched with what the same application registers at interface level in
   the same registry (group, version, protocol), and the instance is assumed to serve those; this
   covers rolling migrations to ``register-mode=instance``;
3. otherwise the instance yields nothing and ``instance-metadata-unavailable`` is reported.

Instance-level endpoints equal to interface-level ones collapse in the builder (interface wins).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dubbomesh.dubbo.instances import (
    Instance,
    InstanceError,
    MetadataInfo,
    ServiceInfo,
    instance_endpoints,
    parse_instance,
    parse_mapping,
    parse_metadata,
)
from dubbomesh.dubbo.model import Endpoint, ServiceId
from dubbomesh.dubbo.problems import ProblemLog
from dubbomesh.dubbo.providers import address_usable
from dubbomesh.dubbo.registry import InstancesChanged, MappingChanged, MetadataChanged

AppKey = tuple[str, str]
"""(registry, application)."""

Template = Callable[[str, str, str], Iterable[tuple[ServiceId, str]]]
"""(registry, application, interface) -> (service, protocol) registered at interface level."""


class AppDiscovery:
    """Single-owner mutable state; every ``on_*`` returns the applications it touched."""

    def __init__(self, log: ProblemLog, *, allow_loopback: bool, volatile: frozenset[str]) -> None:
        self._log = log
        self._allow_loopback = allow_loopback
        self._volatile = volatile
        self._instances: dict[AppKey, dict[str, tuple[int, Instance | None]]] = {}
        self._metadata: dict[tuple[str, str, str], dict[str, MetadataInfo]] = {}
        self._mapping: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
        self._app_ifaces: dict[AppKey, set[str]] = {}
        self.templated: set[AppKey] = set()
        """Applications whose endpoints came from interface-level templates (rule 2)."""

    @property
    def instance_count(self) -> int:
        return sum(len(v) for v in self._instances.values())

    def on_instances(self, ev: InstancesChanged) -> set[AppKey]:
        key = (ev.registry, ev.app)
        old = self._instances.get(key, {})
        new: dict[str, tuple[int, Instance | None]] = {}
        for iid, data in ev.instances.items():
            digest = hash(data)
            prior = old.get(iid)
            new[iid] = (
                prior if prior and prior[0] == digest else (digest, self._parse(ev, iid, data))
            )
        if new:
            self._instances[key] = new
        else:
            self._instances.pop(key, None)
        return {key} if new != old else set()

    def _parse(self, ev: InstancesChanged, iid: str, data: bytes) -> Instance | None:
        subject = f"/services/{ev.app}/{iid}"
        try:
            inst = parse_instance(ev.app, data)
        except InstanceError as exc:
            self._log.add(exc.code, ev.registry, subject, str(exc))
            return None
        reason = address_usable(inst.address, inst.port, allow_loopback=self._allow_loopback)
        if reason:
            self._log.add(reason, ev.registry, subject, f"{inst.address}:{inst.port}")
            return None
        return inst

    def on_metadata(self, ev: MetadataChanged) -> set[AppKey]:
        key = (ev.registry, ev.app, ev.revision)
        roots = self._metadata.setdefault(key, {})
        roots.pop(ev.root, None)
        if ev.data is not None:
            try:
                roots[ev.root] = parse_metadata(ev.data)
            except InstanceError as exc:
                subject = f"/{ev.root}/metadata/{ev.app}/{ev.revision}"
                self._log.add(exc.code, ev.registry, subject, str(exc))
        if not roots:
            del self._metadata[key]
        return {(ev.registry, ev.app)}

    def on_mapping(self, ev: MappingChanged) -> set[AppKey]:
        key = (ev.registry, ev.interface)
        roots = self._mapping.setdefault(key, {})
        before = self._apps_of(key)
        roots.pop(ev.root, None)
        if ev.data is not None:
            roots[ev.root] = parse_mapping(ev.data)
        if not roots:
            del self._mapping[key]
        after = self._apps_of(key)
        for app in before - after:
            ifaces = self._app_ifaces.get((ev.registry, app))
            if ifaces is not None:
                ifaces.discard(ev.interface)
                if not ifaces:
                    del self._app_ifaces[(ev.registry, app)]
        for app in after - before:
            self._app_ifaces.setdefault((ev.registry, app), set()).add(ev.interface)
        return {(ev.registry, app) for app in before ^ after}

    def _apps_of(self, key: tuple[str, str]) -> frozenset[str]:
        return frozenset().union(*self._mapping.get(key, {}).values())

    def _services_of(self, registry: str, inst: Instance) -> tuple[ServiceInfo, ...] | None:
        for root in sorted(self._metadata.get((registry, inst.app, inst.revision), {})):
            return self._metadata[(registry, inst.app, inst.revision)][root].services
        return None

    def endpoints(self, key: AppKey, template: Template) -> dict[ServiceId, tuple[Endpoint, ...]]:
        """Every endpoint the application's instances serve, by service (no overrides yet)."""
        registry, app = key
        out: dict[ServiceId, list[Endpoint]] = {}
        self.templated.discard(key)
        guessed: tuple[ServiceInfo, ...] | None = None
        for iid, (_, inst) in sorted(self._instances.get(key, {}).items()):
            if inst is None:
                continue
            services = self._services_of(registry, inst)
            if services is None:
                if guessed is None:
                    guessed = self._guess(registry, app, template)
                    self.templated.add(key)
                services = guessed
                if not services:
                    self._log.add(
                        "instance-metadata-unavailable",
                        registry,
                        f"/services/{app}/{iid}",
                        f"revision {inst.revision!r} ({inst.storage_type} metadata) not readable",
                    )
            eps = instance_endpoints(inst, services, registry=registry, volatile=self._volatile)
            for ep in eps:
                out.setdefault(ep.service, []).append(ep)
        return {sid: tuple(eps) for sid, eps in out.items()}

    def _guess(self, registry: str, app: str, template: Template) -> tuple[ServiceInfo, ...]:
        found: set[tuple[ServiceId, str]] = set()
        for iface in self._app_ifaces.get((registry, app), ()):
            found.update(template(registry, app, iface))
        return tuple(
            ServiceInfo(sid.interface, sid.group, sid.version, proto)
            for sid, proto in sorted(found)
        )
