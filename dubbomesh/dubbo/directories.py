"""The interface-level provider directories: child names in, memoized endpoints out.

Why this module exists: ``/dubbo/<interface>/providers`` listings are most of a registry (10,000
interfaces x 10 providers), every event carries a directory's full state, and almost every name in
it was seen before. :class:`ProviderDirectories` keeps what a directory's names decoded to, so the
:class:`~dubbomesh.dubbo.builder.CatalogBuilder` only hears about what changed:

- child names are decoded once and memoized per directory (a one-node change decodes one name);
  the memo is keyed by a 96-bit fingerprint of the name (:func:`name_key`), not the name (names
  are 300-600 characters: keeping them would cost half the memory budget of an endpoint);
- a name not seen before first tries the :class:`~dubbomesh.dubbo.querymemo.QueryMemo` (providers
  sharing a parameter set are decoded once), then the full decode, whose problems are logged;
- endpoints share their parts through one :class:`~dubbomesh.dubbo.providers.Interner`, rebuilt
  from the live endpoints (:meth:`ProviderDirectories.compact`) once enough of them died.

It knows nothing of services, rules or app-level discovery: combining sources is the builder's job.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from operator import attrgetter

from dubbomesh.dubbo.model import Endpoint, ServiceId
from dubbomesh.dubbo.problems import ProblemLog
from dubbomesh.dubbo.providers import Interner, NodeOutcome, decode_endpoint
from dubbomesh.dubbo.querymemo import QueryMemo

DirKey = tuple[str, str, str]
"""(registry, root, directory as listed)."""
NameKey = int
"""A 96-bit fingerprint of a child name: what the builder remembers instead of the name."""


def name_key(name: str) -> NameKey:
    """The memo key of a child name: the string's own 64-bit hash (SipHash with a per-process
    random key, already computed and cached when the event's frozenset was built) next to its
    CRC-32. Two names of one directory collide with probability about 2**-96, and nobody outside
    the process can aim at a collision; the memo never leaves the process."""
    crc = zlib.crc32(name.encode("utf-8", "surrogatepass"))
    return (hash(name) & 0xFFFFFFFFFFFFFFFF) << 32 | crc


_UNSEEN = object()
_SERVICE = attrgetter("service")


DirChange = tuple[list[Endpoint], list[Endpoint], list[ServiceId]]
"""What one :meth:`ProviderDirectories.set` changed: ``(added, removed, emptied)``, the endpoints
of names the directory did not list before, those of names it no longer lists, and the services
of which it no longer lists any endpoint. (A plain tuple: one is made per event.)"""


class ProviderDirectories:
    """Single-owner, mutable: the decoded state of every interface-level provider directory."""

    def __init__(self, log: ProblemLog, *, allow_loopback: bool, volatile: frozenset[str]) -> None:
        self._log = log
        self._allow_loopback = allow_loopback
        self._volatile = volatile
        self._intern = Interner()
        self.memo = QueryMemo(volatile)
        """Providers sharing a parameter set are decoded once (read-only for others)."""
        self._dirs: dict[DirKey, dict[NameKey, Endpoint | None]] = {}
        self._counts: dict[DirKey, Counter[ServiceId]] = {}
        self._removed = 0
        """Endpoints dropped since the last :meth:`compact`."""

    @property
    def names(self) -> Mapping[DirKey, Mapping[NameKey, Endpoint | None]]:
        """Every non-empty directory's memo: name fingerprint -> endpoint (None: no endpoint)."""
        return self._dirs

    def set(self, key: DirKey, children: frozenset[str]) -> DirChange | None:
        """Make ``children`` the full listing of ``key``; None when the directory was unknown and
        stays empty. Names seen before are not decoded again."""
        old = self._dirs.get(key)
        if old is None:
            if not children:
                return None
            old = {}
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = Counter()
        new: dict[NameKey, Endpoint | None] = {}
        added: list[Endpoint] = []
        known = old.get
        registry, _, directory = key
        split, from_memo, shared = self.memo.split, self.memo.endpoint, self._intern._table
        for name in children:
            digest = name_key(name)
            ep = known(digest, _UNSEEN)
            if ep is _UNSEEN:
                parts = split(name)
                ep = None if parts is None else from_memo(parts, directory, registry, shared)
                if ep is None:
                    ep = self._decode(key, name, parts)
                if ep is not None:
                    added.append(ep)
            new[digest] = ep  # type: ignore[assignment]
        if added:
            counts.update(map(_SERVICE, added))
        removed: list[Endpoint] = []
        emptied: list[ServiceId] = []
        for digest, ep in old.items():
            if ep is not None and digest not in new:
                removed.append(ep)
                counts[ep.service] -= 1
                if not counts[ep.service]:
                    del counts[ep.service]
                    emptied.append(ep.service)
        self._removed += len(removed)
        if new:
            self._dirs[key] = new
        else:
            self._dirs.pop(key, None)
            self._counts.pop(key, None)
        return added, removed, emptied

    def _decode(
        self, key: DirKey, name: str, parts: tuple[str, str, str, str] | None
    ) -> Endpoint | None:
        """The full decode of a name the query memo could not serve (``parts``: its split)."""
        registry, root, directory = key
        out = decode_endpoint(
            name,
            directory=directory,
            registry=registry,
            allow_loopback=self._allow_loopback,
            volatile=self._volatile,
            intern=self._intern,
        )
        if type(out) is Endpoint:  # a clean decode: its parameter set may serve the next ones
            if parts is not None:
                self.memo.learn(parts[0], directory, out)
            return out
        assert isinstance(out, NodeOutcome)
        subject = f"/{root}/{directory}/providers/{name}"
        for warning in out.warnings:
            if warning.code not in ("loopback-host", "unroutable-host"):
                self._log.add(warning.code, registry, subject, warning.text)
        if out.skip and out.skip != "empty-marker":
            self._log.add(out.skip, registry, subject, out.detail)
        return out.endpoint

    def endpoints_of(self, key: DirKey) -> Collection[Endpoint | None]:
        """One entry per child name of a listed directory (None: the name yields no endpoint);
        KeyError when ``key`` lists nothing."""
        return self._dirs[key].values()

    def raw_endpoints(self, registry: str | None = None) -> Iterator[Endpoint]:
        """Every endpoint listed (of ``registry`` only, when given), before overrides."""
        for (reg, _, _), names in self._dirs.items():
            if registry is None or reg == registry:
                yield from (ep for ep in names.values() if ep is not None)

    @property
    def provider_nodes(self) -> int:
        """Child names listed, decoded or not."""
        return sum(len(d) for d in self._dirs.values())

    @property
    def compact_due(self) -> bool:
        """Enough endpoints died since the last :meth:`compact` for the interner to shrink."""
        return self._removed > max(10_000, len(self._intern) // 4)

    def compact(self, also: Iterable[Endpoint] = ()) -> None:
        """Rebuild the interner from the live endpoints (and ``also``, whose parts stay shared)
        and forget the query memo's templates, which hold parts the new table no longer shares."""
        self._intern.rebuild([*self.raw_endpoints(), *also])
        self.memo.clear()
        self._removed = 0
