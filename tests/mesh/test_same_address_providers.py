"""Two providers of one service on one address (two JVMs on a VM, host-network pods) both stay
endpoints: found by the real-istiod conformance suite, pinned here without a network."""

from __future__ import annotations

from dubbomesh.mesh.intent import Kind, ServiceEntrySpec
from dubbomesh.mesh.render import render
from dubbomesh.mesh.settings import MeshSettings
from tests.mesh.factories import catalog, ep


def _endpoints(*eps: object) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    intent = render(catalog(*eps), MeshSettings(namespace="ns"))  # type: ignore[arg-type]
    entries = [o for o in intent.of_kind(Kind.SERVICE_ENTRY) if o.services and "greeter" in o.name]
    assert len(entries) == 1
    spec = entries[0].spec
    assert isinstance(spec, ServiceEntrySpec)
    return [(w.address, w.ports) for w in spec.endpoints]


def test_two_tri_providers_on_one_address_are_two_endpoints() -> None:
    got = _endpoints(
        ep("com.x.Greeter", "10.0.0.5", proto="tri", port=50052),
        ep("com.x.Greeter", "10.0.0.5", proto="tri", port=50051),
    )
    assert sorted(p for _, ports in got for _, p in ports) == ["50051", "50052"]
    assert {a for a, _ in got} == {"10.0.0.5"}


def test_slots_pair_ports_of_different_protocols() -> None:
    got = _endpoints(
        ep("com.x.Greeter", "10.0.0.5", proto="tri", port=50051),
        ep("com.x.Greeter", "10.0.0.5", proto="tri", port=50061),
        ep("com.x.Greeter", "10.0.0.5", proto="rest", port=8080),
    )
    assert got == [
        ("10.0.0.5", (("grpc-tri", "50051"), ("http-rest", "8080"))),
        ("10.0.0.5", (("grpc-tri", "50061"),)),
    ]


def test_one_provider_per_address_is_unchanged() -> None:
    got = _endpoints(
        ep("com.x.Greeter", "10.0.0.5", proto="tri", port=50051),
        ep("com.x.Greeter", "10.0.0.6", proto="tri", port=50051),
    )
    assert [a for a, _ in got] == ["10.0.0.5", "10.0.0.6"]
