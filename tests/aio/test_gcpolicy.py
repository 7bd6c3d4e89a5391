"""GcPolicy: freeze after each publication, collect fully on the first and every N-th."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from dubbomesh.aio.gcpolicy import GcPolicy


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    yield
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """Cyclic garbage only the cycle collector can free; a weak reference to watch it."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_first_publication_collects_then_freezes_the_state() -> None:
    garbage = cycle()
    state = [Node() for _ in range(10)]
    policy = GcPolicy()
    policy.published()
    assert garbage() is None  # collected before freezing, not frozen
    assert gc.get_freeze_count() >= len(state)
    assert (policy.collections, policy.freezes) == (1, 1)


def test_later_publications_only_freeze_until_the_full_cadence() -> None:
    policy = GcPolicy(full_every=3)
    policy.published()
    frozen = gc.get_freeze_count()
    garbage = cycle()
    kept = [Node() for _ in range(10)]
    policy.published()  # a freeze, no collection: the new objects join the permanent generation
    assert gc.get_freeze_count() >= frozen + len(kept)
    assert garbage() is not None  # frozen with the rest: only a full collection reclaims it
    policy.published()
    assert policy.collections == 1
    policy.published()  # the third since the last full one
    assert policy.collections == 2
    assert garbage() is None


def test_full_every_zero_never_collects_again() -> None:
    policy = GcPolicy(full_every=0)
    for _ in range(5):
        policy.published()
    assert (policy.collections, policy.freezes) == (1, 5)
