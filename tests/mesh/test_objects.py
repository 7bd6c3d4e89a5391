"""The incremental object table: history-independent content, order and version."""

from __future__ import annotations

import itertools

from dubbomesh.mesh.intent import Kind, MeshObject, WorkloadSpec
from dubbomesh.mesh.objects import ObjectTable


def obj(name: str, address: str) -> MeshObject:
    return MeshObject.create(Kind.WORKLOAD_ENTRY, "ns", name, WorkloadSpec(address))


PUTS = [
    (("a", "1"), [obj("x", "1.1.1.1"), obj("y", "1.1.1.2")]),
    (("a", "2"), [obj("x", "2.2.2.2")]),  # collides with ("a", "1") on x
    (("u", "s"), [obj("z", "3.3.3.3")]),
]


def test_any_put_order_gives_the_same_intent() -> None:
    seen = set()
    for order in itertools.permutations(PUTS):
        table = ObjectTable()
        for source, objects in order:
            table.put(source, objects)
        intent = table.intent((), catalog_version="c", complete=True, stale=False)
        spec = intent.objects[(Kind.WORKLOAD_ENTRY, "ns/x")].spec
        assert isinstance(spec, WorkloadSpec)
        assert spec.address == "1.1.1.1"  # the source that sorts first wins
        assert list(intent.objects) == sorted(intent.objects)
        assert len(table.collisions()) == 1
        seen.add(intent.version)
    assert len(seen) == 1


def test_removing_restores_the_previous_version_and_the_loser() -> None:
    table = ObjectTable()
    table.put(*PUTS[1])
    alone = table.version
    table.put(*PUTS[0])
    assert table.version != alone
    table.put(("a", "1"), [])
    assert table.version == alone
    assert table.collisions() == []
    spec = (
        table.intent((), catalog_version="", complete=True, stale=False)
        .objects[(Kind.WORKLOAD_ENTRY, "ns/x")]
        .spec
    )
    assert isinstance(spec, WorkloadSpec)
    assert spec.address == "2.2.2.2"
