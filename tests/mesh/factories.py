"""Small builders of catalogs for mesh tests (plain values, no registry needed)."""

from __future__ import annotations

from dubbomesh.dubbo.model import Catalog, Endpoint, Service, ServiceId


def ep(
    iface: str,
    address: str,
    *,
    proto: str = "dubbo",
    port: int = 0,
    app: str = "app1",
    group: str = "",
    version: str = "",
    weight: int = 100,
    registry: str = "zk",
    params: tuple[tuple[str, str], ...] = (),
) -> Endpoint:
    """An endpoint with sensible defaults (port: Dubbo's default for the protocol)."""
    default = {"dubbo": 20880, "tri": 50051, "rest": 8080}.get(proto, 9000)
    return Endpoint(
        ServiceId(iface, group, version),
        proto,
        address,
        port or default,
        weight=weight,
        application=app,
        registry=registry,
        params=tuple(sorted({("application", app), *params})),
    )


def catalog(*eps: Endpoint) -> Catalog:
    """A complete catalog holding ``eps`` grouped into services (deterministic dedupe)."""
    by_sid: dict[ServiceId, list[Endpoint]] = {}
    first: dict[tuple[str, str, int, str], Endpoint] = {}
    for e in sorted(eps, key=repr):  # one endpoint per identity, whatever the input order
        first.setdefault(e.identity, e)
    for e in first.values():
        by_sid.setdefault(e.service, []).append(e)
    return Catalog.create(Service.create(sid, group) for sid, group in by_sid.items())
