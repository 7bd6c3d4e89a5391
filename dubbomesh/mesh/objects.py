"""The renderer's incremental table of objects, and the MeshIntent snapshots taken from it.

Why this module exists: rebuilding a MeshIntent from 100,000 objects on every change costs more
than rendering the change itself. This table keeps the objects keyed by (kind, namespace/name),
remembers which render source (a service unit or a provider address) produced each, resolves
clashing keys deterministically (the source that sorts first wins, whatever the history) and keeps
the keys sorted with bisection. A snapshot copies two containers in C and never re-sorts.

The intent version is order-independent and maintained incrementally
(:class:`~dubbomesh.dubbo.model.VersionSum` over (kind, key, object version)): equal object sets
always give equal versions, the same as ``MeshIntent.create``, at a cost of O(changes)
(documented in ``docs/mesh-model.md``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping

from dubbomesh.dubbo.model import VersionSum
from dubbomesh.mesh.intent import Kind, MeshIntent, MeshObject, Problem, intent_key

Key = tuple[Kind, str]
SourceId = tuple[str, str]
"""("u", unit identity) or ("a", address): sortable, stable across runs."""


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
    """Single-owner; :meth:`put` replaces everything one source produced.

    Compact on purpose (it holds one entry per published object, 100,000+): a source's output is
    a tuple of objects, and a key claimed by one source (the usual case) stores that source
    itself rather than a set."""

    def __init__(self) -> None:
        self._by_source: dict[SourceId, tuple[MeshObject, ...]] = {}
        self._claimants: dict[Key, SourceId | set[SourceId]] = {}
        self._collided: set[Key] = set()
        self._objects: dict[Key, MeshObject] = {}
        self._keys: list[Key] = []
        self._unsorted = False
        """New keys are appended and sorted once before the next snapshot or deletion."""
        self._sum = VersionSum()

    def put(self, source: SourceId, objects: list[MeshObject]) -> None:
        """Make ``objects`` the whole output of ``source`` (empty list: it produces nothing)."""
        old = {(o.kind, o.key): o for o in self._by_source.pop(source, ())}
        new = {(o.kind, o.key): o for o in objects}
        if new:
            self._by_source[source] = tuple(new.values())
        for key in old.keys() - new.keys():
            claimants = self._claimants[key]
            if isinstance(claimants, set):
                claimants.discard(source)
                if len(claimants) == 1:
                    self._claimants[key] = next(iter(claimants))
            else:
                del self._claimants[key]
            self._settle(key, source, new)
        for key in new:
            found = self._claimants.get(key)
            if found is None or found == source:
                self._claimants[key] = source
            elif isinstance(found, set):
                found.add(source)
            else:
                self._claimants[key] = {found, source}
            self._settle(key, source, new)

    def _output(self, source: SourceId, key: Key) -> MeshObject:
        return next(o for o in self._by_source[source] if (o.kind, o.key) == key)

    def _settle(self, key: Key, putting: SourceId, fresh: dict[Key, MeshObject]) -> None:
        """Re-decide which object ``key`` shows; ``fresh`` is the new output of ``putting``."""
        claimants = self._claimants.get(key)
        if isinstance(claimants, set):
            self._collided.add(key)
            winner: SourceId | None = min(claimants)
        else:
            self._collided.discard(key)
            winner = claimants
        prior = self._objects.get(key)
        chosen = None
        if winner is not None:
            chosen = fresh[key] if winner == putting else self._output(winner, key)
        if prior is chosen:
            return
        if prior is not None:
            self._sum.remove(intent_key(*key), prior.version)
        if chosen is None:
            del self._objects[key]
            self._sort()
            del self._keys[bisect.bisect_left(self._keys, key)]
            return
        if prior is None:
            self._keys.append(key)
            self._unsorted = True
        self._objects[key] = chosen
        self._sum.add(intent_key(*key), chosen.version)

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
        return self._sum.version

    def intent(
        self, problems: tuple[Problem, ...], *, catalog_version: str, complete: bool, stale: bool
    ) -> MeshIntent:
        """An immutable snapshot of the current objects as a MeshIntent."""
        self._sort()
        objects = SortedObjects(dict(self._objects), list(self._keys))
        return MeshIntent(objects, problems, self.version, catalog_version, complete, stale)
