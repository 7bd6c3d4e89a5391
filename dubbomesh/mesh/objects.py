"""The renderer's incremental table of objects, and the MeshIntent snapshots taken from it.

Why this module exists: rebuilding a MeshIntent from 100,000 objects on every change costs more
than rendering the change itself. This table keeps the objects keyed by (kind, namespace/name),
remembers which render source (a service unit or a provider address) produced each, resolves
clashing keys deterministically (the source that sorts first wins, whatever the history) and keeps
the keys sorted with bisection. A snapshot copies two containers in C and never re-sorts.

The intent version is order-independent and maintained incrementally: the sum (mod 2**128) of a
SHA-256 digest of (kind, key, object version) per object, hashed with the object count. Equal
object sets always give equal versions; unlike ``MeshIntent.create`` it costs O(changes), not a
serialisation of every object (documented in ``docs/mesh-model.md``).
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterator, Mapping

from dubbomesh.mesh.intent import Kind, MeshIntent, MeshObject, Problem

Key = tuple[Kind, str]
SourceId = tuple[str, str]
"""("u", unit identity) or ("a", address): sortable, stable across runs."""
_MOD = 1 << 128


def _digest(key: Key, obj: MeshObject) -> int:
    blob = f"{key[0].value}\0{key[1]}\0{obj.version}".encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:16], "big")


class SortedObjects(Mapping[Key, MeshObject]):
    """An immutable mapping iterated in key order (what ``MeshIntent.objects`` promises)."""

    __slots__ = ("_data", "_keys")

    def __init__(self, data: dict[Key, MeshObject], keys: list[Key]) -> None:
        self._data = data
        self._keys = keys

    def __getitem__(self, key: Key) -> MeshObject:
        return self._data[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._data


class ObjectTable:
    """Single-owner; :meth:`put` replaces everything one source produced."""

    def __init__(self) -> None:
        self._by_source: dict[SourceId, dict[Key, MeshObject]] = {}
        self._claimants: dict[Key, set[SourceId]] = {}
        self._collided: set[Key] = set()
        self._objects: dict[Key, MeshObject] = {}
        self._keys: list[Key] = []
        self._unsorted = False
        """New keys are appended and sorted once before the next snapshot or deletion."""
        self._sum = 0

    def put(self, source: SourceId, objects: list[MeshObject]) -> None:
        """Make ``objects`` the whole output of ``source`` (empty list: it produces nothing)."""
        old = self._by_source.pop(source, {})
        new = {(o.kind, o.key): o for o in objects}
        if new:
            self._by_source[source] = new
        for key in old.keys() - new.keys():
            claimants = self._claimants[key]
            claimants.discard(source)
            if not claimants:
                del self._claimants[key]
            self._settle(key)
        for key in new:
            self._claimants.setdefault(key, set()).add(source)
            self._settle(key)

    def _settle(self, key: Key) -> None:
        claimants = self._claimants.get(key, set())
        if len(claimants) > 1:
            self._collided.add(key)
        else:
            self._collided.discard(key)
        prior = self._objects.get(key)
        chosen = self._by_source[min(claimants)][key] if claimants else None
        if prior is chosen:
            return
        if prior is not None:
            self._sum = (self._sum - _digest(key, prior)) % _MOD
        if chosen is None:
            del self._objects[key]
            self._sort()
            del self._keys[bisect.bisect_left(self._keys, key)]
            return
        if prior is None:
            self._keys.append(key)
            self._unsorted = True
        self._objects[key] = chosen
        self._sum = (self._sum + _digest(key, chosen)) % _MOD

    def _sort(self) -> None:
        if self._unsorted:
            self._keys.sort()  # a sorted run plus a short tail: close to linear
            self._unsorted = False

    def collisions(self) -> list[Problem]:
        """One problem per key claimed by more than one source."""
        return [
            Problem(
                "name-collision",
                f"{k[0].value} {k[1]} claimed by {sorted(self._claimants[k])}; kept first",
            )
            for k in sorted(self._collided)
        ]

    def __len__(self) -> int:
        return len(self._objects)

    @property
    def version(self) -> str:
        """Order-independent content version of the current objects."""
        blob = f"{self._sum:032x}:{len(self._objects)}".encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def intent(
        self, problems: tuple[Problem, ...], *, catalog_version: str, complete: bool, stale: bool
    ) -> MeshIntent:
        """An immutable snapshot of the current objects as a MeshIntent."""
        self._sort()
        objects = SortedObjects(dict(self._objects), list(self._keys))
        return MeshIntent(objects, problems, self.version, catalog_version, complete, stale)
