"""Catalog -> MeshIntent, pure and incremental.

Why this module exists: every sink (Kubernetes, MCP, local xDS) consumes the same
:class:`MeshIntent`. :func:`render` is the pure definition; :class:`Renderer` gives the same result
incrementally: it re-renders only the services whose :attr:`Service.version` changed (and the
provider addresses their endpoints touch), so one changed service among 10,000 costs one service.
Cross-service decisions (host and name collisions, virtual IPs) are functions of the SET of
services, recomputed only when that set changes, so the output never depends on event order.
"""

from __future__ import annotations

from collections.abc import Sequence

from dubbomesh.dubbo.model import Catalog, Endpoint, ServiceId
from dubbomesh.mesh.addresses import allocate_vips, claims_port_without_address
from dubbomesh.mesh.intent import MeshIntent, MeshObject, Pairs, Problem
from dubbomesh.mesh.labels import endpoint_labels
from dubbomesh.mesh.naming import (
    disambiguate,
    object_name,
    render_template,
    service_values,
    short_hash,
)
from dubbomesh.mesh.objects import ObjectTable, SourceId
from dubbomesh.mesh.services import ServiceUnit, render_service
from dubbomesh.mesh.settings import AddressStrategy, EndpointMode, MeshSettings
from dubbomesh.mesh.workloads import render_address

UnitKey = tuple[ServiceId, str]
"""(service, registry or "")."""
SELECTOR_PREFIX = "svc.dubbomesh.io/"


def render(catalog: Catalog, settings: MeshSettings) -> MeshIntent:
    """The Istio intent for ``catalog`` (pure: same inputs, same output)."""
    return Renderer(settings).render(catalog)


def unit_template(settings: MeshSettings) -> str:
    """The host template, with ``{registry}`` inserted before the final literal part when
    ``registry_suffix`` is on and the template lacks it."""
    template = settings.host_template
    if not settings.registry_suffix or "{registry}" in template:
        return template
    parts = template.split(".")
    if len(parts) > 1 and "{" not in parts[-1]:
        return ".".join([*parts[:-1], "{registry}", parts[-1]])
    return f"{template}.{{registry}}"


Held = Endpoint | tuple[Endpoint, ...]


def _unit_order(item: tuple[UnitKey, Held]) -> tuple[tuple[str, str, str], str]:
    return (item[0][0].order, item[0][1])  # UnitKey order, compared in C


def _each(held: Held) -> tuple[Endpoint, ...]:
    return (held,) if isinstance(held, Endpoint) else held


class Renderer:
    """Single-owner incremental renderer; :meth:`render` equals :func:`render` for any history."""

    def __init__(self, settings: MeshSettings) -> None:
        self.settings = settings
        self._template = unit_template(settings)
        self._versions: dict[ServiceId, str] = {}
        self._unit_eps: dict[UnitKey, tuple[Endpoint, ...]] = {}
        self._sid_units: dict[ServiceId, tuple[UnitKey, ...]] = {}
        """Sorted unit keys per service (a tuple: one entry per 10 endpoints must stay small)."""
        self._base_host: dict[UnitKey, str] = {}
        self._resolved: dict[UnitKey, tuple[str, str, str]] = {}
        """(host, name, vip) per unit."""
        self._table = ObjectTable()
        self._problems: dict[SourceId, tuple[Problem, ...]] = {}
        self._addr_units: dict[str, dict[UnitKey, Held] | tuple[UnitKey, Held]] = {}
        """Endpoints per address and unit; (unit, endpoints) when the address has one unit and
        the bare Endpoint when alone (with one provider per IP, 100,000 one-entry dicts and
        one-item tuples would cost 250 bytes per endpoint)."""
        self._global: tuple[Problem, ...] = ()
        self._serial = 0
        """Serial of the last catalog rendered (see ``Catalog.since``)."""
        self._labels: dict[tuple[int, str], tuple[tuple[tuple[str, str], ...], Pairs]] = {}
        self._label_sets: dict[Pairs, Pairs] = {}
        """Equal label tuples shared (thousands of interfaces yield the same few)."""
        self.labels_refused = 0
        self.rendered_last = 0
        """Units and addresses re-rendered by the last call (for metrics and tests)."""

    # ------------------------------------------------------------------ helpers

    def _label(self, ep: Endpoint) -> Pairs:
        # Keyed by the params tuple's identity (the builder shares one per interface), checked
        # on a hit: hashing a 13-pair tuple per endpoint would cost more than the lookup.
        key = (id(ep.params), ep.application)
        hit = self._labels.get(key)
        if hit is not None and hit[0] is ep.params:
            return hit[1]
        if len(self._labels) > 50_000:
            self._labels.clear()
            self._label_sets.clear()
        found, refused = endpoint_labels(ep, self.settings.label_params)
        found = self._label_sets.setdefault(found, found)
        self.labels_refused += refused
        self._labels[key] = (ep.params, found)
        return found

    def _units_of(
        self, sid: ServiceId, eps: tuple[Endpoint, ...]
    ) -> dict[UnitKey, Sequence[Endpoint]]:
        if not self.settings.registry_suffix:
            return {(sid, ""): eps} if eps else {}  # one unit: share the catalog's tuple
        out: dict[UnitKey, list[Endpoint]] = {}
        for ep in eps:
            out.setdefault((sid, ep.registry), []).append(ep)
        return dict(out)

    def _selector(self, key: UnitKey) -> str:
        if self.settings.endpoint_mode is not EndpointMode.WORKLOAD_ENTRY:
            return ""
        return SELECTOR_PREFIX + short_hash(f"{key[0].key}@{key[1]}", 16)

    # ------------------------------------------------------------------ render

    def render(self, catalog: Catalog) -> MeshIntent:
        """The intent for ``catalog``, reusing everything unchanged since the last call."""
        dirty_units, dirty_addrs = self._absorb(catalog)
        if any((k in self._unit_eps) != (k in self._resolved) for k in dirty_units):
            dirty_units |= self._resolve()
        for key in dirty_units:
            self._render_unit(key)
        for address in dirty_addrs:
            self._render_address(address)
        self.rendered_last = len(dirty_units) + len(dirty_addrs)
        return self._assemble(catalog)

    def _absorb(self, catalog: Catalog) -> tuple[set[UnitKey], set[str]]:
        """Take in changed services; return the units and addresses to re-render."""
        dirty_units: set[UnitKey] = set()
        dirty_addrs: set[str] = set()
        seen = catalog.services
        hint = catalog.touched_since(self._serial)
        self._serial = catalog.serial
        if hint is None:  # compare every service
            changed = [s for s in catalog if self._versions.get(s.id) != s.version]
            gone = [sid for sid in self._versions if sid not in seen]
        else:  # O(changes): the catalog says which services may differ from the last one
            maybe = [seen.get(sid) for sid in sorted(hint)]
            changed = [s for s in maybe if s is not None and self._versions.get(s.id) != s.version]
            gone = [sid for sid in sorted(hint) if sid not in seen and sid in self._versions]
        for sid in gone:
            del self._versions[sid]
        for service in changed:
            self._versions[service.id] = service.version
        for sid, eps in [(sid, ()) for sid in gone] + [(s.id, s.endpoints) for s in changed]:
            old_keys = self._unit_keys_of(sid)
            new_units = self._units_of(sid, eps)
            for key in set(old_keys) | set(new_units):
                dirty_units.add(key)
                for ep in self._unit_eps.pop(key, ()):
                    dirty_addrs.add(ep.address)
                    self._addr_pop(ep.address, key)
                new = tuple(new_units.get(key, ()))  # the service's own tuple when it is whole
                units = set(self._sid_units.pop(sid, ()))
                if new:
                    units.add(key)
                else:
                    units.discard(key)
                if units:
                    self._sid_units[sid] = tuple(sorted(units))
                if new:
                    self._unit_eps[key] = new
                    by_address: dict[str, list[Endpoint]] = {}
                    for ep in new:
                        by_address.setdefault(ep.address, []).append(ep)
                    dirty_addrs.update(by_address)
                    for address, at in by_address.items():
                        self._addr_put(address, key, at[0] if len(at) == 1 else tuple(at))
        return dirty_units, dirty_addrs

    def _addr_pop(self, address: str, key: UnitKey) -> None:
        held = self._addr_units.get(address)
        if isinstance(held, tuple):
            if held[0] == key:
                del self._addr_units[address]
        elif held is not None:
            held.pop(key, None)
            if not held:
                del self._addr_units[address]
            elif len(held) == 1:
                self._addr_units[address] = next(iter(held.items()))

    def _addr_put(self, address: str, key: UnitKey, value: Held) -> None:
        held = self._addr_units.get(address)
        if held is None or (isinstance(held, tuple) and held[0] == key):
            self._addr_units[address] = (key, value)
        elif isinstance(held, tuple):
            self._addr_units[address] = {held[0]: held[1], key: value}
        else:
            held[key] = value

    def _addr_items(self, address: str) -> list[tuple[UnitKey, Held]]:
        held = self._addr_units.get(address)
        if held is None:
            return []
        return [held] if isinstance(held, tuple) else sorted(held.items(), key=_unit_order)

    def _unit_keys_of(self, sid: ServiceId) -> list[UnitKey]:
        return list(self._sid_units.get(sid, ()))

    def _resolve(self) -> set[UnitKey]:
        """Recompute hosts, names and VIPs over all units; return units whose values changed."""
        hosts: dict[str, list[UnitKey]] = {}
        for key in self._unit_eps:
            base = self._base_host.get(key)
            if base is None:
                sid, reg = key
                values = service_values(
                    sid.interface,
                    sid.group,
                    sid.version,
                    registry=reg,
                    namespace=self.settings.namespace,
                )
                base = self._base_host[key] = render_template(self._template, values)
            hosts.setdefault(base, []).append(key)
        for key in [k for k in self._base_host if k not in self._unit_eps]:
            del self._base_host[key]
        problems: list[Problem] = []
        final: dict[UnitKey, str] = {}
        for host, keys in hosts.items():
            if len(keys) > 1:
                listed = ", ".join(sorted(k[0].key for k in keys))
                problems.append(Problem("host-collision", f"{host}: {listed}; hash label added"))
            for key in keys:
                ident = f"{key[0].key}@{key[1]}"
                final[key] = disambiguate(host, ident) if len(keys) > 1 else host
        names: dict[str, list[UnitKey]] = {}
        for key, host in final.items():
            names.setdefault(object_name(host, f"se|{key[0].key}@{key[1]}"), []).append(key)
        named: dict[UnitKey, str] = {}
        for name, keys in names.items():
            for key in keys:
                ident = f"se|{key[0].key}@{key[1]}"
                named[key] = (
                    object_name(f"{name}-{short_hash(ident)}", ident) if len(keys) > 1 else name
                )
            if len(keys) > 1:
                problems.append(Problem("name-collision", f"{name}: hash suffix added"))
        vips: dict[str, str] = {}
        if self.settings.address_strategy is AddressStrategy.WORKLOAD_VIP:
            vips = allocate_vips((f"{k[0].key}@{k[1]}" for k in final), self.settings.vip_cidr)
        self._global = tuple(sorted(problems, key=lambda p: (p.code, p.text)))
        changed: set[UnitKey] = set()
        resolved: dict[UnitKey, tuple[str, str, str]] = {}
        for key, host in final.items():
            value = (host, named[key], vips.get(f"{key[0].key}@{key[1]}", ""))
            resolved[key] = value
            if self._resolved.get(key) != value:
                changed.add(key)
        self._resolved = resolved
        return changed

    def _publish(
        self, source: SourceId, objects: list[MeshObject], problems: list[Problem]
    ) -> None:
        kept = []
        for obj in objects:
            if claims_port_without_address(obj):  # never reached by design; a safety net
                problems.append(Problem("port-claim-conflict", f"{obj.key} dropped"))
            else:
                kept.append(obj)
        self._table.put(source, kept)
        if problems:
            self._problems[source] = tuple(problems)
        else:
            self._problems.pop(source, None)

    def _render_unit(self, key: UnitKey) -> None:
        source = ("u", f"{key[0].key}@{key[1]}")
        eps = self._unit_eps.get(key)
        if not eps:
            self._publish(source, [], [])
            return
        host, name, vip = self._resolved[key]
        unit = ServiceUnit(key[0], key[1], eps, host, name, vip, self._selector(key))
        obj, problems = render_service(unit, self.settings, self._label)
        tagged = [Problem(p.code, f"{key[0].key}: {p.text}") for p in problems]
        self._publish(source, [obj] if obj is not None else [], tagged)

    def _render_address(self, address: str) -> None:
        units = self._addr_items(address)
        if not units:
            self._publish(("a", address), [], [])
            return
        tagged = [(self._selector(key), ep) for key, held in units for ep in _each(held)]
        objects, problems = render_address(address, tagged, self.settings, self._label)
        self._publish(("a", address), objects, problems)

    def _assemble(self, catalog: Catalog) -> MeshIntent:
        problems = [*self._global, *self._table.collisions()]
        for probs in self._problems.values():
            problems.extend(probs)
        problems.sort(key=lambda p: (p.code, p.text))
        limit = self.settings.max_problems
        if len(problems) > limit:
            extra = len(problems) - limit
            problems = [*problems[:limit], Problem("more-problems", f"{extra} more not listed")]
        return self._table.intent(
            tuple(problems),
            catalog_version=catalog.version,
            complete=catalog.complete,
            stale=catalog.stale,
        )
