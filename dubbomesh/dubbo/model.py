"""The service model and the immutable, content-versioned catalog.

Why this module exists: every consumer (xDS snapshot builder, Kubernetes reconciler, last-known-good
file, debug endpoint) reads the same value, the :class:`Catalog`, at its own pace. Because a catalog
is immutable and its versions are hashes of a deterministic serialisation, the same content always
yields the same versions: a no-op change in ZooKeeper causes no xDS push and no API write.

Identity rules (from ``shared/reference/dubbo-registry.md``): an endpoint is identified by
(protocol, address, port, service key), never by ZooKeeper node name; volatile params
(:data:`VOLATILE_PARAMS`) never enter an endpoint, so they never change a version.

Versions are cheap because 100,000 endpoints are hashed on a cold load and one service per change:

- a service version hashes plain tuples pickled without memo (:func:`tuple_hash`; no JSON, no
  dicts): equal content always gives equal bytes;
- a catalog version is ORDER-INDEPENDENT: the sum (mod 2**128) of one digest per (service key,
  service version), hashed with the count (:class:`VersionSum`). The builder keeps the sum and
  updates it per changed service, so a one-service change costs O(1) instead of re-hashing every
  service; :meth:`Catalog.create` computes the same value from scratch.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from dubbomesh.dubbo.frozen import quick_init

VOLATILE_PARAMS = frozenset({"timestamp", "pid"})
"""Params that change on every provider restart and must never cause a rewrite downstream."""


def content_hash(data: object) -> str:
    """A short stable hash of JSON-serialisable ``data`` (sorted keys, no whitespace)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class _Canonical(threading.local):
    """A per-thread pickler in "fast" mode: no memo, so shared and merely-equal objects give the
    same bytes (plain pickling would write a back-reference for a repeated object)."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.pickler = pickle.Pickler(self.buffer, 4)
        self.pickler.fast = True

    def dumps(self, data: object) -> bytes:
        buffer = self.buffer
        buffer.seek(0)
        buffer.truncate()
        self.pickler.dump(data)
        return buffer.getvalue()


_CANONICAL = _Canonical()


def tuple_hash(data: object) -> str:
    """A short stable hash of ``data`` made of tuples, str, int, bool and None only (16 hex).

    Pickle protocol 4 without memo: a fixed format whose bytes depend on content only (about 8x
    cheaper than ``repr`` or ``marshal`` for the nested tuples of a rendered object)."""
    return hashlib.sha256(_CANONICAL.dumps(data)).hexdigest()[:16]


_MOD = 1 << 128


def set_term(key: str, version: str) -> int:
    """One member's share of an order-independent :class:`VersionSum`."""
    blob = f"{key}\0{version}".encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:16], "big")


class VersionSum:
    """An order-independent digest of a set of (key, version) members, updated in O(1).

    Equal sets give equal versions whatever the order of additions and removals."""

    __slots__ = ("count", "total")

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def add(self, key: str, version: str) -> None:
        self.total = (self.total + set_term(key, version)) % _MOD
        self.count += 1

    def remove(self, key: str, version: str) -> None:
        self.total = (self.total - set_term(key, version)) % _MOD
        self.count -= 1

    @property
    def version(self) -> str:
        return hashlib.sha256(f"{self.total:032x}:{self.count}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True, order=True)
class ServiceId:
    """An interface-level Dubbo service: what a consumer asks for."""

    interface: str
    group: str = ""
    version: str = ""
    _key: str = field(init=False, repr=False, compare=False)
    """The service key, computed once (it is part of every endpoint identity)."""
    _hash: int = field(init=False, repr=False, compare=False)
    """Cached: ServiceIds are dictionary keys on every hot path of the builder and renderer."""

    def __post_init__(self) -> None:
        out = f"{self.group}/{self.interface}" if self.group else self.interface
        object.__setattr__(self, "_key", f"{out}:{self.version}" if self.version else out)
        object.__setattr__(self, "_hash", hash((self.interface, self.group, self.version)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def key(self) -> str:
        """Dubbo's service key ``[group/]interface[:version]``."""
        return self._key

    @property
    def order(self) -> tuple[str, str, str]:
        """A sort key giving this class's own order, compared in C (``sorted(ids, key=...)``
        instead of the generated, Python-level ``__lt__`` on every comparison)."""
        return (self.interface, self.group, self.version)

    def __str__(self) -> str:
        return self.key


class Source(StrEnum):
    """Where an endpoint was learnt."""

    INTERFACE = "interface"
    """``/<root>/<interface>/providers/<url>`` (every Dubbo version)."""
    INSTANCE = "instance"
    """Dubbo 3 application-level discovery, ``/services/<app>/<instance>``."""


@quick_init  # one per provider node: construction is on the initial sync's hot path
@dataclass(frozen=True, slots=True)
class Endpoint:
    """One provider address serving one service over one protocol, overrides already applied."""

    service: ServiceId
    protocol: str
    address: str
    """An IP literal (IPv6 unbracketed) or a host name; what a client dials."""
    port: int
    weight: int = 100
    """Dubbo weight after overrides (``disabled`` endpoints are not in the catalog at all)."""
    application: str = ""
    registry: str = ""
    """The name of the ZooKeeper registry (ensemble) it came from."""
    source: Source = Source.INTERFACE
    params: tuple[tuple[str, str], ...] = ()
    """Sorted non-volatile URL params. Provider-controlled: the mesh layer allowlists them."""

    @property
    def identity(self) -> tuple[str, str, int, str]:
        """Deduplication key: (protocol, address, port, service key)."""
        return (self.protocol, self.address, self.port, self.service.key)

    def param(self, key: str, default: str = "") -> str:
        """A param's value, or ``default`` when absent or empty."""
        for k, v in self.params:
            if k == key:
                return v or default
        return default

    def to_data(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        return {
            "protocol": self.protocol,
            "address": self.address,
            "port": self.port,
            "weight": self.weight,
            "application": self.application,
            "registry": self.registry,
            "source": self.source.value,
            "params": [list(p) for p in self.params],
        }


def service_hash(sid: ServiceId, eps: tuple[Endpoint, ...]) -> str:
    """The version of a service with these (sorted, unique) endpoints.

    Endpoints of a service usually share one params tuple: each distinct params value is hashed
    once and endpoints refer to it by index (first appearance), which depends on content only."""
    index: dict[tuple[tuple[str, str], ...], int] = {}
    rows = []
    last: object = None
    n = 0
    for e in eps:
        params = e.params
        if params is not last:  # a shared tuple: skip re-hashing its pairs
            last, n = params, index.setdefault(params, len(index))
        source = e.source._value_  # the plain value, without the enum property's call
        rows.append((e.protocol, e.address, e.port, e.weight, e.application, e.registry, source, n))
    return tuple_hash((sid.interface, sid.group, sid.version, tuple(rows), tuple(index)))


@quick_init
@dataclass(frozen=True, slots=True)
class Service:
    """A service and every endpoint serving it, sorted by identity."""

    id: ServiceId
    endpoints: tuple[Endpoint, ...]
    version: str = ""
    """Content hash of this service; filled by :meth:`create`."""

    @classmethod
    def create(cls, sid: ServiceId, endpoints: Iterable[Endpoint]) -> Service:
        """Sort, deduplicate (last one wins per identity) and hash."""
        unique: dict[tuple[str, str, int, str], Endpoint] = {}
        for ep in endpoints:
            unique[ep.identity] = ep
        return cls.from_unique(sid, unique)

    @classmethod
    def from_unique(
        cls, sid: ServiceId, unique: Mapping[tuple[str, str, int, str], Endpoint]
    ) -> Service:
        """:meth:`create` for endpoints already keyed by their :attr:`Endpoint.identity` (the
        builder deduplicates while it applies overrides: no second pass)."""
        eps = tuple(unique[k] for k in sorted(unique))
        return cls(sid, eps, service_hash(sid, eps))

    def to_data(self) -> dict[str, object]:
        """A JSON-serialisable form (debug endpoint, last-known-good file)."""
        return {
            "interface": self.id.interface,
            "group": self.id.group,
            "version": self.id.version,
            "service_key": self.id.key,
            "content_version": self.version,
            "endpoints": [e.to_data() for e in self.endpoints],
        }


@dataclass(frozen=True, slots=True)
class CatalogDiff:
    """Which services a new catalog added, removed or changed relative to an older one."""

    added: frozenset[ServiceId] = frozenset()
    removed: frozenset[ServiceId] = frozenset()
    changed: frozenset[ServiceId] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def touched(self) -> frozenset[ServiceId]:
        """Every service whose published form may differ."""
        return self.added | self.removed | self.changed


_NO_SERVICES: Mapping[ServiceId, Service] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Catalog:
    """An immutable set of services with a content version.

    ``complete`` is False until every configured registry finished its first listing: nothing is
    published before that. ``stale`` marks a catalog loaded from the last-known-good file: it may
    be served, but deletions must never be derived from it.
    """

    services: Mapping[ServiceId, Service] = field(default_factory=lambda: _NO_SERVICES)
    version: str = ""
    complete: bool = False
    stale: bool = False
    serial: int = field(default=0, compare=False, repr=False)
    """A process-wide unique number of this snapshot (0: none). Not content: see ``since``."""
    since: tuple[int, frozenset[ServiceId]] | None = field(default=None, compare=False, repr=False)
    """A hint for incremental consumers: (serial of the previous snapshot of the same builder,
    every service that may differ from it). A consumer that last saw exactly that serial need only
    look at those services; anyone else compares everything."""

    @classmethod
    def create(
        cls, services: Iterable[Service], *, complete: bool = True, stale: bool = False
    ) -> Catalog:
        """Build a catalog; services without endpoints are dropped; version = hash of content
        (order-independent, see :class:`VersionSum`)."""
        by_id = {s.id: s for s in services if s.endpoints}
        ordered = {sid: by_id[sid] for sid in sorted(by_id)}
        versions = VersionSum()
        for s in ordered.values():
            versions.add(s.id.key, s.version)
        return cls(MappingProxyType(ordered), versions.version, complete, stale)

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services.values())

    def __len__(self) -> int:
        return len(self.services)

    def get(self, sid: ServiceId) -> Service | None:
        """The service, or None when it has no endpoint."""
        return self.services.get(sid)

    @property
    def endpoint_count(self) -> int:
        """Total endpoints over all services."""
        return sum(len(s.endpoints) for s in self.services.values())

    def touched_since(self, serial: int) -> frozenset[ServiceId] | None:
        """Services that may differ from the snapshot numbered ``serial``; None when unknown."""
        if serial and serial == self.serial:
            return frozenset()
        if serial and self.since is not None and self.since[0] == serial:
            return self.since[1]
        return None

    def diff(self, newer: Catalog) -> CatalogDiff:
        """What changed from ``self`` to ``newer``."""
        old, new = self.services, newer.services
        added = frozenset(k for k in new if k not in old)
        removed = frozenset(k for k in old if k not in new)
        changed = frozenset(k for k in new if k in old and old[k].version != new[k].version)
        return CatalogDiff(added, removed, changed)
