"""Per-workload objects: the entries that claim each provider IP:port once, and WorkloadEntries.

Why this module exists: Dubbo consumers dial provider IPs read from ZooKeeper, and one process
serves many interfaces on one port. A sidecar matches TCP by destination address:port, so the only
conflict-free shape is one entry per workload whose ``addresses`` is the provider IP and whose ports
are the real ports there (the ``workload`` and ``workload+vip`` address strategies). The same entry
carries the workload's HTTP-family ports (``tri``, ``grpc``, ``rest``...) at their real numbers:
the interface-level entry only offers the per-protocol service port (50051), so without them a
consumer dialling ``<provider IP>:<real port>`` would leave the mesh (PassthroughCluster). Those
ports are matched by ``:authority`` (Istio adds the entry's addresses to its virtual host domains
and ignores the port when matching), so they share ``0.0.0.0:<port>`` with any other HTTP entry
and capture no port for every address. A workload is (address, application); every IP:port is
claimed by exactly one workload (TCP-like ports first, then the application that sorts first; a
lost claim is reported).

In ``workloadentry`` endpoint mode the same grouping yields WorkloadEntries: one per workload (split
per port when one application listens on several ports of the same protocol at one address), with
a ``svc.dubbomesh.io/<hash>: "true"`` label per service it serves, which is what the interface-level
entries select. That is correct when one address serves many interfaces and when an interface spans
several applications. The per-workload entries keep their inline endpoint in that mode too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TypeVar

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
from dubbomesh.mesh.labels import common_labels, ownership_labels
from dubbomesh.mesh.naming import (
    address_label,
    fill_template,
    object_name,
    render_template,
    shorten_host,
    workload_values,
)
from dubbomesh.mesh.ports import needs_address, port_name, workload_port
from dubbomesh.mesh.services import is_ip
from dubbomesh.mesh.settings import (
    ADDRESS_ANNOTATION,
    AddressStrategy,
    EndpointMode,
    MeshSettings,
)

LabelFn = Callable[[Endpoint], Pairs]
Tagged = tuple[str, Endpoint]
"""(selector label key of the endpoint's service, or "", endpoint)."""


def workload_host(address: str, application: str, settings: MeshSettings) -> str:
    """The per-workload host (``workload_host_template`` filled)."""
    return _host(address, application, settings.workload_host_template, settings.namespace)


def _host(address: str, application: str, template: str, namespace: str) -> str:
    pattern = _host_pattern(application, template, namespace)
    if pattern is None:
        return render_template(template, workload_values(address, application, namespace=namespace))
    head, tail = pattern
    return shorten_host(head + address_label(address) + tail)


_SLOT = "\x00"
"""Stands for the address label while a template is filled once per application: it survives
lower-casing, and an address label is never empty and already lower-case."""


@functools.lru_cache(maxsize=1024)
def _host_pattern(application: str, template: str, namespace: str) -> tuple[str, str] | None:
    """The filled template around the address, or None when the address does not appear in it
    exactly once (then every host is filled in full)."""
    values = workload_values("0.0.0.0", application, namespace=namespace)
    values["address"] = _SLOT
    filled = fill_template(template, values)
    if filled.count(_SLOT) != 1:
        return None
    head, _, tail = filled.partition(_SLOT)
    return head, tail


def render_address(
    address: str, tagged: Sequence[Tagged], settings: MeshSettings, labels: LabelFn
) -> tuple[list[MeshObject], list[Problem]]:
    """Every per-workload object at one provider address (none for a host name: entries with
    ``addresses`` and STATIC endpoints need IPs)."""
    if not is_ip(address):
        return [], [Problem("hostname-endpoint", f"{address}: not an IP, no workload objects")]
    by_app: dict[str, list[Tagged]] = {}
    for sel, ep in tagged:
        by_app.setdefault(ep.application, []).append((sel, ep))
    groups = [
        (
            app,
            sorted(by_app[app], key=lambda t: (t[1].protocol, t[1].port, t[1].service.order, t[0])),
        )
        for app in sorted(by_app)
    ]
    objects: list[MeshObject] = []
    problems: list[Problem] = []
    claims: dict[str, dict[int, PortSpec]] = {}
    if settings.address_strategy is not AddressStrategy.L7_ONLY:
        claims = _claim_ports(address, groups, settings, problems)
    for app, group in groups:
        host = workload_host(address, app, settings)
        ports = claims.get(app)
        if ports:
            objects.append(
                _capture_entry(
                    address,
                    app=app,
                    host=host,
                    group=group,
                    ports=ports,
                    settings=settings,
                    labels=labels,
                )
            )
        if settings.endpoint_mode is EndpointMode.WORKLOAD_ENTRY:
            objects.extend(
                _workload_entries(
                    address, app=app, host=host, group=group, settings=settings, labels=labels
                )
            )
    return objects, problems


def _claim_ports(
    address: str,
    groups: list[tuple[str, list[Tagged]]],
    settings: MeshSettings,
    problems: list[Problem],
) -> dict[str, dict[int, PortSpec]]:
    """The real ports each application's entry carries at ``address``: every port number once.

    TCP-like ports are claimed first, over all applications, then host-matched (HTTP-family)
    ports: a port that one workload registers for two protocols (Dubbo 3 port unification of
    ``dubbo`` and ``tri``) stays TCP, whose proxy carries either protocol, and adding HTTP ports
    never takes a TCP claim away. Among applications the one that sorts first wins a contested
    port (reported once per application and port)."""
    if len(groups) == 1 and len(groups[0][1]) == 1:  # one provider per IP: the most frequent case
        app, ((_, ep),) = groups[0]
        return {app: {ep.port: _port(ep.protocol, ep.port, settings)}}
    claimed: dict[int, str] = {}
    out: dict[str, dict[int, PortSpec]] = {app: {} for app, _ in groups}
    reported: set[tuple[str, int]] = set()
    for tcp in (True, False):
        for app, group in groups:
            ports = out[app]
            for _, ep in group:
                if ep.port in ports or needs_address(ep.protocol, settings) is not tcp:
                    continue
                owner = claimed.setdefault(ep.port, app)
                if owner == app:
                    ports[ep.port] = _port(ep.protocol, ep.port, settings)
                elif (app, ep.port) not in reported:
                    reported.add((app, ep.port))
                    problems.append(
                        Problem(
                            "address-port-conflict",
                            f"{address}:{ep.port} registered by applications {owner!r} and "
                            f"{app!r}; kept {owner!r}",
                        )
                    )
    return out


def _capture_entry(
    address: str,
    *,
    app: str,
    host: str,
    group: list[Tagged],
    ports: dict[int, PortSpec],
    settings: MeshSettings,
    labels: LabelFn,
) -> MeshObject:
    """The per-workload ServiceEntry: ``addresses: [address]`` and the workload's real ports
    (TCP ones matched by address:port, HTTP-family ones by ``:authority`` ``<address>:<port>``:
    Istio puts the address in the entry's virtual host domains in route config ``<port>``), one
    inline endpoint (itself)."""
    if len(group) == 1:  # the worst case (one provider per IP) is also the most frequent one
        served = [group[0][1]]
        services: tuple[ServiceId, ...] = (served[0].service,)
    else:
        served = [ep for _, ep in group if ep.port in ports]
        services = tuple(sorted({ep.service for ep in served}, key=_order))
    specs = _shared(tuple(ports[n] for n in sorted(ports)))
    spec = ServiceEntrySpec(
        hosts=(host,),
        ports=specs,
        addresses=(address,),
        location=Location.MESH_INTERNAL,
        resolution=Resolution.STATIC,
        endpoints=(
            WorkloadSpec(
                address=address,
                ports=_shared(tuple(sorted((p.name, str(p.number)) for p in specs))),
                labels=common_labels(labels(ep) for ep in served),
            ),
        ),
        export_to=settings.export_to,
    )
    return MeshObject.create(
        Kind.SERVICE_ENTRY,
        settings.namespace,
        object_name(host, f"wse|{address}|{app}"),
        spec,
        labels=ownership_labels(min(ep.registry for ep in served)),
        annotations=((ADDRESS_ANNOTATION, address),),
        services=services,
    )


def _order(sid: ServiceId) -> tuple[str, str, str]:
    return sid.order


_SHARED: dict[object, object] = {}
T = TypeVar("T")


def _shared(value: T) -> T:
    """One copy of equal small tuples (port lists): 100,000 workload entries repeat a few."""
    found = _SHARED.get(value)
    if found is None:
        if len(_SHARED) > 4096:
            _SHARED.clear()
        found = _SHARED[value] = value
    return found  # type: ignore[return-value]


_PORTS: dict[tuple[str, int, str, bool], PortSpec] = {}


def _port(protocol: str, number: int, settings: MeshSettings) -> PortSpec:
    """``workload_port``, shared: every provider on port 20880 gets the same immutable value."""
    key = (protocol, number, settings.istio_protocols.get(protocol, "TCP"), settings.aeraki)
    found = _PORTS.get(key)
    if found is None:
        if len(_PORTS) > 4096:
            _PORTS.clear()
        found = _PORTS[key] = workload_port(protocol, number, settings)
    return found


def _workload_entries(
    address: str,
    *,
    app: str,
    host: str,
    group: list[Tagged],
    settings: MeshSettings,
    labels: LabelFn,
) -> list[MeshObject]:
    vip = settings.address_strategy is AddressStrategy.WORKLOAD_VIP
    usable = [
        (sel, ep)
        for sel, ep in group
        if sel
        and ep.protocol in settings.ports
        and (vip or not needs_address(ep.protocol, settings))
    ]
    ports_of: dict[str, set[int]] = {}
    for _, ep in usable:
        ports_of.setdefault(ep.protocol, set()).add(ep.port)
    split = any(len(p) > 1 for p in ports_of.values())
    parts: dict[int, list[Tagged]] = {}
    for item in usable:
        parts.setdefault(item[1].port if split else 0, []).append(item)
    out: list[MeshObject] = []
    for port in sorted(parts):
        members = parts[port]
        eps = [ep for _, ep in members]
        port_map = sorted({(port_name(ep.protocol, settings), str(ep.port)) for ep in eps})
        own = common_labels(labels(ep) for ep in eps)
        selectors = tuple(sorted({(sel, "true") for sel, _ in members}))
        spec = WorkloadSpec(
            address=address,
            ports=tuple(dict(port_map).items()),
            labels=tuple(sorted(dict(own + selectors).items())),
            weight=max(ep.weight for ep in eps),
        )
        base = f"{host}-{port}" if split else host
        out.append(
            MeshObject.create(
                Kind.WORKLOAD_ENTRY,
                settings.namespace,
                object_name(base, f"we|{address}|{app}|{port}"),
                spec,
                labels=ownership_labels(min(ep.registry for ep in eps)),
                annotations=((ADDRESS_ANNOTATION, address),),
                services=tuple(sorted({ep.service for ep in eps}, key=_order)),
            )
        )
    return out
