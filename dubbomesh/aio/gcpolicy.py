"""Garbage-collector policy for a process that holds a big, long-lived, mostly acyclic state.

Why this module exists: at 10,000 services the agent holds ~300,000 GC-tracked objects (catalog,
intent, xDS snapshot). CPython's cycle collector costs two kinds of pauses there:

- full collections walk ALL of them (~100-200 ms on a loaded 2-core machine); the first ones come
  a few changes after the initial load, when the loaded state is promoted to the oldest generation;
- every change creates a few 10,000-entry containers (the intent's copy, the snapshot's tables);
  until they are promoted, each young collection walks them: 4-7 ms per collection, several per
  change, in the middle of the xDS push that follows.

The state is freed by reference counting, never by the cycle collector (bench_xds measured no
cyclic garbage at all over 30 pushes to 100 streams), so these walks find nothing. ``gc.freeze()``
moves every object alive at that moment into a permanent generation the collector never walks, in
O(1); frozen objects that are later dropped are still freed by reference counting. Only cyclic
garbage among frozen objects would stay (a stream ended by an exception, say): a full
``unfreeze + collect + freeze`` every ``full_every`` publications reclaims it, one planned pause.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field


def freeze_all(*, collect: bool) -> None:
    """Optionally collect everything first, then freeze every live object. Collecting pauses as
    long as the heap is big; freezing alone is O(1) (``gc.get_freeze_count()`` is not: it walks
    the permanent generation, ~20 ms at 300,000 objects)."""
    if collect:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


@dataclass(slots=True)
class GcPolicy:
    """Keep the cycle collector off the state: freeze after each publication.

    Call :meth:`published` right after each new state is built (the xDS server does, when it is
    given a policy) and before work that allocates much (the pushes). The first call collects
    fully (a startup pause); later calls only freeze (O(1)), and every ``full_every``-th call
    collects fully again. Single-owner, not thread-safe.
    """

    full_every: int = 1000
    """Publications between full collections (0: only the first one)."""
    freezes: int = 0
    """Calls so far."""
    collections: int = 0
    """Full collections done so far."""
    _since: int = field(default=0, repr=False)

    def published(self) -> None:
        """A new state is in memory: freeze it (collect fully on the first and every
        ``full_every``-th call)."""
        full = self.collections == 0 or (0 < self.full_every <= self._since)
        freeze_all(collect=full)
        self.freezes += 1
        if full:
            self.collections += 1
            self._since = 0
        self._since += 1
