"""What a real istiod sends an Envoy sidecar for our ServiceEntries: every provider captured once.

An Envoy-shaped ADS client (node id ``sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local``, the
default Envoy generator) attaches to the real istiod, fed only by our stream. Dubbo consumers dial
provider IP:port from ZooKeeper, so for the default address strategy every provider IP:port must
be captured by exactly one outbound listener filter chain that routes to a cluster of that
provider's service, and no TCP chain may capture a Dubbo port for every address (IST0134).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pytest
from envoy.config.listener.v3 import listener_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2

from tests.conformance.ads import CDS, LDS, fetch, sidecar_node
from tests.conformance.conftest import Mesh
from tests.conformance.istiod import Istiod
from tests.conformance.peers import wait_until

LOOPBACK = "127.0.0.1"
CONSUMER_IP = "127.0.0.9"
METADATA = {
    "ISTIO_VERSION": "1.30.0",
    "NAMESPACE": "dubbo",
    "CLUSTER_ID": "Kubernetes",
    "INTERCEPTION_MODE": "REDIRECT",
    "LABELS": {"app": "consumer"},
}
SKIP_LISTENERS = {"virtualOutbound", "virtualInbound"}


@dataclass(frozen=True)
class Chain:
    """One outbound filter chain: where it listens, which destinations it matches, where to."""

    listener: str
    address: str
    port: int
    prefixes: tuple[str, ...]
    kind: str  # "tcp" or "http"
    target: str  # a cluster (tcp) or a route config name (http)

    def captures(self, ip: str, port: int) -> bool:
        if self.port != port or self.address not in (ip, "0.0.0.0"):
            return False
        if not self.prefixes:
            return True
        return any(ipaddress.ip_address(ip) in ipaddress.ip_network(p) for p in self.prefixes)


def chains(listeners: list[listener_pb2.Listener]) -> list[Chain]:
    out = []
    for lst in listeners:
        if lst.name in SKIP_LISTENERS or not lst.address.HasField("socket_address"):
            continue
        sock = lst.address.socket_address
        if lst.traffic_direction == 1:  # INBOUND
            continue
        for chain in lst.filter_chains:
            match = chain.filter_chain_match
            if match.destination_port.value and match.destination_port.value != sock.port_value:
                continue
            prefixes = tuple(
                f"{r.address_prefix}/{r.prefix_len.value}" for r in match.prefix_ranges
            )
            for flt in chain.filters:
                kind, target = decode_filter(flt.typed_config)
                if kind:
                    out.append(
                        Chain(lst.name, sock.address, sock.port_value, prefixes, kind, target)
                    )
    return out


def decode_filter(config: Any) -> tuple[str, str]:
    if config.type_url.endswith("tcp_proxy.v3.TcpProxy"):
        proxy = tcp_proxy_pb2.TcpProxy.FromString(config.value)
        return "tcp", proxy.cluster
    if config.type_url.endswith("http_connection_manager.v3.HttpConnectionManager"):
        hcm = hcm_pb2.HttpConnectionManager.FromString(config.value)
        return "http", hcm.rds.route_config_name or "inline"
    return "", ""


def sidecar_config(istiod: Istiod) -> dict[str, list[Any]]:
    node = sidecar_node(CONSUMER_IP, "consumer", "dubbo", METADATA)
    return fetch(istiod.xds_address, node, [CDS, LDS])


def provider_endpoints(mesh: Mesh) -> list[tuple[str, int, str]]:
    a33, p27 = mesh.providers["a33"], mesh.providers["p27"]
    return [
        (LOOPBACK, a33.ports["dubbo"], "tcp"),
        (LOOPBACK, a33.ports["tri"], "http"),
        (LOOPBACK, p27.ports["dubbo"], "tcp"),
    ]


def describe(found: list[Chain]) -> str:
    return "\n".join(f"  {c}" for c in found) or "  (none)"


@pytest.fixture(scope="session")
def sidecar(istiod: Istiod, mesh: Mesh) -> dict[str, list[Any]]:
    """The sidecar's CDS and LDS once istiod applied every ServiceEntry of the agent (a cluster
    per entry port) and captured the TCP providers."""
    tcp = [(ip, port) for ip, port, kind in provider_endpoints(mesh) if kind == "tcp"]
    last: list[dict[str, list[Any]]] = []

    def converged() -> dict[str, list[Any]] | None:
        config = sidecar_config(istiod)
        last[:] = [config]
        found = chains(config[LDS])
        greeter = any("greeter" in c.name for c in config[CDS])
        ok = greeter and all(any(c.captures(ip, port) for c in found) for ip, port in tcp)
        return config if ok else None

    try:
        config: dict[str, list[Any]] = wait_until(converged, 90, "sidecar config", interval=1.0)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{dump(last[0] if last else {LDS: [], CDS: []})}") from exc
    return config


def dump(config: dict[str, list[Any]]) -> str:
    names = sorted(lst.name for lst in config[LDS])
    clusters = sorted(c.name for c in config[CDS])
    return f"listeners: {names}\nclusters: {clusters}\nchains:\n{describe(chains(config[LDS]))}"


@pytest.mark.parametrize(
    "which",
    [
        "dubbo33-dubbo",
        "dubbo33-tri",
        "dubbo27-dubbo",
    ],
)
def test_provider_ip_port_captured_exactly_once(
    which: str, sidecar: dict[str, list[Any]], mesh: Mesh
) -> None:
    ip, port, kind = dict(zip(["dubbo33-dubbo", "dubbo33-tri", "dubbo27-dubbo"],
                              provider_endpoints(mesh), strict=True))[which]  # fmt: skip
    matching = [c for c in chains(sidecar[LDS]) if c.captures(ip, port)]
    assert len(matching) == 1, (
        f"{ip}:{port} captured {len(matching)} times:\n{describe(matching)}\n{dump(sidecar)}"
    )
    chain = matching[0]
    assert chain.kind == kind, chain
    if kind == "tcp":
        assert chain.target in {c.name for c in sidecar[CDS]}, f"{chain.target} not in CDS"
        assert chain.target.startswith(f"outbound|{port}|"), chain


def test_no_port_wide_tcp_capture_of_dubbo_ports(sidecar: dict[str, list[Any]], mesh: Mesh) -> None:
    config = sidecar
    dubbo_ports = {port for _, port, kind in provider_endpoints(mesh) if kind == "tcp"}
    wide = [
        c
        for c in chains(config[LDS])
        if c.kind == "tcp" and c.port in dubbo_ports and c.address == "0.0.0.0" and not c.prefixes
    ]
    assert not wide, "TCP chains capturing a Dubbo port for every address:\n" + describe(wide)
