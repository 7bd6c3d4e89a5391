"""The published services between snapshots, so that a small change republishes cheaply.

Why this module exists: consumers compare services by identity and catalogs by version, and a
10,000-service catalog must not be re-sorted or re-hashed because one provider moved.
:class:`ServiceTable` takes the services a snapshot rebuilt and:

- reuses every other :class:`Service` object (and so its version) unchanged, and keeps the old
  object of a rebuilt service whose version did not change;
- updates the catalog version, an order-independent sum (:class:`VersionSum`), per changed service;
- re-sorts the service table only when the SET of services grew (new keys are appended, then one
  sorted run plus a tail is merged in C), so a one-provider change costs O(1) plus one C-level copy
  of the table.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from types import MappingProxyType

from dubbomesh.dubbo.model import Catalog, Service, ServiceId, VersionSum

_SERIALS = itertools.count(1)
"""Snapshot serial numbers, unique in the process (several builders may feed one renderer)."""


def _sort_key(item: tuple[ServiceId, Service]) -> tuple[str, str, str]:
    return item[0].order


class ServiceTable:
    """Single-owner, mutable: every non-empty service and the last catalog made of them."""

    def __init__(self) -> None:
        self._services: dict[ServiceId, Service] = {}
        """Every non-empty service, kept in sorted order (rebuilt only when the set changes)."""
        self._versions = VersionSum()
        self.catalog: Catalog | None = None
        """The last :meth:`publish`\\ ed catalog (read-only for others)."""

    def __len__(self) -> int:
        return len(self._services)

    @property
    def endpoint_count(self) -> int:
        return sum(len(s.endpoints) for s in self._services.values())

    def update(self, rebuilt: Iterable[Service]) -> None:
        """Take the new state of some services (one without endpoints leaves the table)."""
        services, versions = self._services, self._versions
        reorder = False
        for service in rebuilt:
            sid = service.id
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
        if reorder:  # new keys were appended: one sorted run plus a tail, merged in C
            self._services = dict(sorted(services.items(), key=_sort_key))

    def publish(self, complete: bool, touched: frozenset[ServiceId]) -> Catalog:
        """A new catalog of the table; ``touched``: every service updated since the last one."""
        previous = self.catalog.serial if self.catalog is not None else 0
        self.catalog = Catalog(
            MappingProxyType(dict(self._services)),
            self._versions.version,
            complete,
            False,
            serial=next(_SERIALS),
            since=(previous, touched) if previous else None,
        )
        return self.catalog
