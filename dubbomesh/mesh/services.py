"""One interface-level ServiceEntry per Dubbo service (per registry with ``registry_suffix``).

Why this module exists: this is the object L7-aware consumers (proxyless gRPC, REST clients,
Aeraki) address by host. Its ports are the service's protocols at their configured numbers; each
endpoint lists its real port per port name. TCP ports only appear here when they can carry an
address (``workload+vip``): otherwise the entry would capture every connection to that port
(IST0134). Consumers that dial a provider IP:port read from ZooKeeper (TCP and tri alike) are
captured by the per-workload entries of :mod:`dubbomesh.mesh.workloads` instead.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dubbomesh.dubbo.model import Endpoint, ServiceId
from dubbomesh.mesh.intent import (
    Kind,
    Location,
    MeshObject,
    Pairs,
    PortSpec,
    Problem,
    Resolution,
    ServiceEntrySpec,
    WorkloadSpec,
)
from dubbomesh.mesh.labels import ownership_labels
from dubbomesh.mesh.naming import IPV4
from dubbomesh.mesh.ports import needs_address, service_port
from dubbomesh.mesh.settings import SERVICE_KEY_ANNOTATION, AddressStrategy, MeshSettings

LabelFn = Callable[[Endpoint], Pairs]


@dataclass(frozen=True, slots=True)
class ServiceUnit:
    """What one interface-level entry is rendered from."""

    sid: ServiceId
    registry: str
    """The registry this unit is scoped to ("" unless ``registry_suffix``)."""
    endpoints: tuple[Endpoint, ...]
    host: str
    name: str
    vip: str = ""
    selector_key: str = ""
    """WorkloadEntry mode: the label key WorkloadEntries of this service carry."""

    @property
    def identity(self) -> str:
        return f"{self.sid.key}@{self.registry}"


def is_ip(address: str) -> bool:
    """STATIC entries accept only IP endpoints."""
    return bool(IPV4.fullmatch(address)) or _is_other_ip(address)


@functools.lru_cache(maxsize=4096)
def _is_other_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def service_ports(
    protocols: Sequence[str], settings: MeshSettings, *, with_tcp: bool
) -> tuple[dict[str, PortSpec], list[Problem]]:
    """Port per protocol (sorted), skipping unknown ones, TCP ones unless ``with_tcp``, and any
    protocol whose number another one already took."""
    ports: dict[str, PortSpec] = {}
    problems: list[Problem] = []
    taken: dict[int, str] = {}
    for proto in sorted(set(protocols)):
        spec = service_port(proto, settings)
        if spec is None:
            problems.append(Problem("unknown-protocol", f"no port number for protocol {proto!r}"))
            continue
        if needs_address(proto, settings) and not with_tcp:
            continue
        if spec.number in taken:
            problems.append(
                Problem(
                    "port-conflict",
                    f"{proto!r} and {taken[spec.number]!r} both map to port {spec.number}; "
                    f"{proto!r} skipped (configure ports)",
                )
            )
            continue
        taken[spec.number] = proto
        ports[proto] = spec
    return ports, problems


def endpoint_specs(
    eps: Sequence[Endpoint], ports: dict[str, PortSpec], labels: LabelFn
) -> tuple[tuple[WorkloadSpec, ...], list[Problem]]:
    """One WorkloadSpec per address and port slot: real port per port name, labels, Dubbo weight.

    Weight 0 (Dubbo: no traffic) drops the endpoint unless every endpoint has weight 0.
    """
    problems: list[Problem] = []
    usable = [e for e in eps if e.protocol in ports]
    hostnames = sorted({e.address for e in usable if not is_ip(e.address)})
    if hostnames:
        problems.append(
            Problem("hostname-endpoint", f"STATIC entries need IPs; skipped {hostnames[:5]}")
        )
    usable = [e for e in usable if is_ip(e.address)]
    all_zero = all(e.weight == 0 for e in usable)
    by_address: dict[str, list[Endpoint]] = {}
    for ep in usable:
        if ep.weight > 0 or all_zero:
            by_address.setdefault(ep.address, []).append(ep)
    specs: list[WorkloadSpec] = []
    for address in sorted(by_address):
        # Several providers of one service may share an address (two JVMs on a VM, host-network
        # pods): one WorkloadSpec per "slot", the n-th port of every port name, so that no
        # provider is dropped. Slot 0 holds the lowest port of each name.
        slots: list[list[Endpoint]] = []
        seen: dict[str, int] = {}
        for ep in sorted(by_address[address], key=lambda e: (e.protocol, e.port)):
            name = ports[ep.protocol].name
            index = seen.get(name, 0)
            seen[name] = index + 1
            if index == len(slots):
                slots.append([])
            slots[index].append(ep)
        for group in slots:
            port_map: dict[str, int] = {}
            merged: dict[str, str] = {}
            for ep in group:
                port_map[ports[ep.protocol].name] = ep.port
                for k, v in labels(ep):
                    merged.setdefault(k, v)
            specs.append(
                WorkloadSpec(
                    address=address,
                    ports=tuple(sorted((k, str(v)) for k, v in port_map.items())),
                    labels=tuple(sorted(merged.items())),
                    weight=max(e.weight for e in group),
                )
            )
    return tuple(specs), problems


def render_service(
    unit: ServiceUnit, settings: MeshSettings, labels: LabelFn
) -> tuple[MeshObject | None, list[Problem]]:
    """The interface-level ServiceEntry of ``unit``; None when it has no port or no endpoint."""
    with_tcp = settings.address_strategy is AddressStrategy.WORKLOAD_VIP and bool(unit.vip)
    ports, problems = service_ports(
        [e.protocol for e in unit.endpoints], settings, with_tcp=with_tcp
    )
    if not ports:
        return None, problems
    has_tcp = any(needs_address(p, settings) for p in ports)
    selector: Pairs | None = None
    endpoints: tuple[WorkloadSpec, ...] = ()
    if unit.selector_key:
        selector = ((unit.selector_key, "true"),)
    else:
        endpoints, more = endpoint_specs(unit.endpoints, ports, labels)
        problems += more
        if not endpoints:
            return None, problems
        present = {name for spec in endpoints for name, _ in spec.ports}
        if len(present) < len(ports) and len(ports) > 1:
            problems.append(
                Problem(
                    "partial-endpoints",
                    f"{unit.sid.key}: some addresses do not serve every protocol; Istio sends "
                    "them traffic on the service port for the missing ones",
                )
            )
    registry = unit.registry or min((e.registry for e in unit.endpoints), default="")
    spec = ServiceEntrySpec(
        hosts=(unit.host,),
        ports=tuple(sorted(ports.values(), key=lambda p: (p.number, p.name))),
        addresses=(unit.vip,) if has_tcp else (),
        location=Location.MESH_INTERNAL,
        resolution=Resolution.STATIC,
        endpoints=endpoints,
        export_to=settings.export_to,
        workload_selector=selector,
    )
    obj = MeshObject.create(
        Kind.SERVICE_ENTRY,
        settings.namespace,
        unit.name,
        spec,
        labels=ownership_labels(registry),
        annotations=((SERVICE_KEY_ANNOTATION, unit.sid.key),),
        services=(unit.sid,),
    )
    return obj, problems
