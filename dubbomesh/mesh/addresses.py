"""Addresses: deterministic virtual IPs, and the check that no two entries claim one TCP port.

Why this module exists: a TCP ServiceEntry without ``addresses`` captures ALL traffic on its port
(istioctl IST0134); two such entries on 20880 make sidecars route Dubbo calls to an arbitrary
service. :func:`port_claims` finds every such conflict (and address:port conflicts) in a set of
objects; the renderer refuses to publish them. For ``workload+vip``, :func:`allocate_vips` gives
every interface-level entry a stable virtual IP from a class E range.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable

from dubbomesh.mesh.intent import MeshObject, ServiceEntrySpec
from dubbomesh.mesh.ports import HOST_MATCHED


def allocate_vips(keys: Iterable[str], cidr: str) -> dict[str, str]:
    """A VIP per key: hash of the key into ``cidr``; collisions probe upward in sorted key order.

    The result depends only on the SET of keys (never on event order). A key keeps its VIP while
    it lives unless a key that sorts before it starts to collide with it (reported by the renderer
    as ``vip-probed``).
    """
    net = ipaddress.ip_network(cidr, strict=False)
    size = net.num_addresses - 2 if net.num_addresses > 4 else net.num_addresses
    base = int(net.network_address) + (1 if net.num_addresses > 4 else 0)
    taken: set[int] = set()
    out: dict[str, str] = {}
    for key in sorted(keys):
        slot = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % size
        for _ in range(size):
            if slot not in taken:
                break
            slot = (slot + 1) % size
        else:
            raise ValueError(f"vip_cidr {cidr} is full")
        taken.add(slot)
        out[key] = str(ipaddress.ip_address(base + slot))
    return out


def port_claims(objects: Iterable[MeshObject]) -> list[tuple[MeshObject, str]]:
    """Every ServiceEntry that conflicts with an earlier one (in iteration order), and why:

    - a non-host-matched (TCP-like) port number claimed by two entries without ``addresses``;
    - the same address:port claimed twice for a TCP-like port.
    """
    wildcard: dict[int, str] = {}
    by_address: dict[tuple[str, int], str] = {}
    out: list[tuple[MeshObject, str]] = []
    for obj in objects:
        spec = obj.spec
        if not isinstance(spec, ServiceEntrySpec):
            continue
        for port in spec.ports:
            if port.protocol in HOST_MATCHED:
                continue
            claims = [(a, port.number) for a in spec.addresses] or [("", port.number)]
            for claim in claims:
                if claim[0]:
                    other = by_address.setdefault(claim, obj.key)
                else:
                    other = wildcard.setdefault(port.number, obj.key)
                if other != obj.key:
                    where = f"{claim[0]}:{claim[1]}" if claim[0] else f"port {claim[1]} (no addr)"
                    out.append((obj, f"{where} claimed by {other} and {obj.key}; kept {other}"))
                    break
            else:
                continue
            break
    return out


def claims_port_without_address(obj: MeshObject) -> bool:
    """True for a ServiceEntry with a TCP-like port and no ``addresses`` (captures the port)."""
    spec = obj.spec
    return (
        isinstance(spec, ServiceEntrySpec)
        and not spec.addresses
        and any(p.protocol not in HOST_MATCHED for p in spec.ports)
    )
