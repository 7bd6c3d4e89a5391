"""Service and application filters scope an agent to its namespace's services."""

from __future__ import annotations

from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder
from dubbomesh.dubbo.filters import ServiceFilter
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged
from dubbomesh.dubbo.url import encode_component


def _name(iface: str, host: str, app: str) -> str:
    return encode_component(
        f"dubbo://{host}:20880/{iface}?application={app}&interface={iface}&side=provider"
    )


def _catalog(flt: ServiceFilter) -> set[tuple[str, str]]:
    b = CatalogBuilder(["r"], BuildPolicy(filter=flt))
    for iface, host, app in [
        ("com.acme.pay.Pay", "10.0.0.1", "pay"),
        ("com.acme.pay.Refund", "10.0.0.2", "pay-legacy"),
        ("com.acme.ship.Ship", "10.0.0.3", "ship"),
    ]:
        b.apply(ProvidersChanged("r", "/dubbo", iface, frozenset({_name(iface, host, app)})))
    b.apply(ListingComplete("r"))
    return {(s.id.interface, e.application) for s in b.snapshot() for e in s.endpoints}


def test_no_filter_publishes_everything() -> None:
    assert len(_catalog(ServiceFilter())) == 3


def test_interface_globs_include_and_exclude() -> None:
    got = _catalog(ServiceFilter(include_interfaces=("com.acme.pay.*",)))
    assert got == {("com.acme.pay.Pay", "pay"), ("com.acme.pay.Refund", "pay-legacy")}
    got = _catalog(
        ServiceFilter(include_interfaces=("com.acme.*",), exclude_interfaces=("*.Refund",))
    )
    assert got == {("com.acme.pay.Pay", "pay"), ("com.acme.ship.Ship", "ship")}


def test_application_globs() -> None:
    got = _catalog(ServiceFilter(exclude_applications=("*-legacy",)))
    assert ("com.acme.pay.Refund", "pay-legacy") not in got
    assert len(got) == 2
    assert _catalog(ServiceFilter(include_applications=("ship",))) == {
        ("com.acme.ship.Ship", "ship")
    }
