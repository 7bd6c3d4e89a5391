"""How the catalog is rendered into Istio objects: one frozen value, a docstring per field.

Why this module exists: naming, port numbers, address strategy and label policy are operator
choices with consequences (a changed host breaks consumers, two TCP entries on one port without
addresses break sidecars). Keeping them in one validated value makes rendering a pure function of
(catalog, settings) and lets ``docs/mesh-model.md`` describe every knob in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

DEFAULT_PORTS: Mapping[str, int] = MappingProxyType(
    {
        "dubbo": 20880,
        "tri": 50051,
        "grpc": 50051,
        "rest": 80,
        "http": 80,
        "hessian": 80,
        "webservice": 80,
        "jsonrpc": 80,
        "thrift": 40880,
    }
)
"""Service port number per Dubbo protocol (Dubbo's own defaults). Never "the first provider's"."""

ISTIO_PROTOCOLS: Mapping[str, str] = MappingProxyType(
    {
        "dubbo": "TCP",
        "tri": "GRPC",
        "grpc": "GRPC",
        "rest": "HTTP",
        "http": "HTTP",
        "hessian": "HTTP",
        "webservice": "HTTP",
        "jsonrpc": "HTTP",
        "thrift": "TCP",
    }
)
"""Istio port protocol per Dubbo protocol (Istio has no DUBBO protocol)."""

DEFAULT_LABEL_PARAMS: Mapping[str, str] = MappingProxyType(
    {
        "application": "app",
        "group": "dubbo.apache.org/group",
        "version": "dubbo.apache.org/version",
        "dubbo.tag": "dubbo.apache.org/tag",
        "release": "dubbo.apache.org/release",
    }
)
"""Dubbo param -> endpoint label key. ``app`` feeds Istio telemetry; the rest are namespaced so
they cannot be mistaken for Istio's own ``version`` subset label."""

MANAGED_BY = ("app.kubernetes.io/managed-by", "dubbomesh")
REGISTRY_LABEL = "dubbomesh.io/registry"
SERVICE_KEY_ANNOTATION = "dubbomesh.io/service-key"
ADDRESS_ANNOTATION = "dubbomesh.io/address"


class EndpointMode(StrEnum):
    """Where interface-level entries keep their endpoints."""

    INLINE = "inline"
    """``ServiceEntry.endpoints`` (one object per service)."""
    WORKLOAD_ENTRY = "workloadentry"
    """One WorkloadEntry per workload (address + application); entries select them by label."""


class AddressStrategy(StrEnum):
    """How provider IP:ports are claimed without port conflicts (TCP: IST0134)."""

    WORKLOAD = "workload"
    """Default. Per-workload entries whose ``addresses`` are the provider IP claim each IP:port
    once, TCP and HTTP-family ports alike at their real numbers (so consumers dialling the
    address from ZooKeeper are captured); interface-level entries carry only HTTP/GRPC ports
    (matched by host)."""
    WORKLOAD_VIP = "workload+vip"
    """As WORKLOAD, and interface-level entries also carry their TCP ports on a deterministic
    virtual IP from ``vip_cidr`` (for Aeraki / DNS-proxied consumers that dial the host)."""
    L7_ONLY = "l7-only"
    """No TCP ports and no per-workload entries: only interface-level HTTP/GRPC entries (meshes of
    consumers that address services by host; one dialling a provider IP:port is not captured)."""


@dataclass(frozen=True, slots=True)
class MeshSettings:
    """Every rendering choice. See ``docs/mesh-model.md`` for the rules behind each field."""

    namespace: str = "dubbo"
    """Namespace of every published object."""
    host_template: str = "{interface}.{group}.{version}.dubbo"
    """Interface-level host. Placeholders: ``{interface}`` (dotted, each segment a DNS label),
    ``{group}`` -> ``g-<group>``, ``{version}`` -> ``v-<version>``, ``{registry}`` ->
    ``r-<registry>`` (only with ``registry_suffix``), ``{namespace}``, ``{hash}`` (8 hex of the
    exact service key). An empty placeholder disappears with its dot."""
    workload_host_template: str = "{address}.{application}.workload.dubbo"
    """Per-workload host: ``{address}`` (IP as a label), ``{application}``, ``{namespace}``."""
    registry_suffix: bool = False
    """One entry per (service, registry), ``{registry}`` filled (appended when absent from the
    template): for registries that reuse interface names for different services."""
    ports: Mapping[str, int] = field(default_factory=lambda: DEFAULT_PORTS)
    """Service port number per Dubbo protocol; protocols absent here are skipped and reported."""
    istio_protocols: Mapping[str, str] = field(default_factory=lambda: ISTIO_PROTOCOLS)
    """Istio protocol per Dubbo protocol; absent -> TCP."""
    export_to: tuple[str, ...] = ()
    """``exportTo`` of every object; empty = Istio's default (all namespaces)."""
    endpoint_mode: EndpointMode = EndpointMode.INLINE
    address_strategy: AddressStrategy = AddressStrategy.WORKLOAD
    vip_cidr: str = "242.0.0.0/8"
    """Class E range for ``workload+vip`` (outside Istio's auto-allocation 240.240.0.0/16)."""
    aeraki: bool = False
    """Name Dubbo ports ``tcp-metaprotocol-dubbo`` so Aeraki's MetaProtocol routes them at L7."""
    label_params: Mapping[str, str] = field(default_factory=lambda: DEFAULT_LABEL_PARAMS)
    """Allowlist: Dubbo param -> label key. ``timestamp``/``pid`` and reserved prefixes are
    refused whatever this says."""
    max_problems: int = 100
    """Problems listed in the intent (counts are always complete)."""

    def __post_init__(self) -> None:
        if "{interface}" not in self.host_template and "{hash}" not in self.host_template:
            raise ValueError("host_template needs {interface} or {hash} to tell services apart")
        if "{address}" not in self.workload_host_template:
            raise ValueError("workload_host_template needs {address}")
        for proto, port in self.ports.items():
            if not 0 < port <= 65535:
                raise ValueError(f"port for {proto!r} out of range: {port}")
        object.__setattr__(self, "ports", MappingProxyType(dict(self.ports)))
        object.__setattr__(self, "istio_protocols", MappingProxyType(dict(self.istio_protocols)))
        object.__setattr__(self, "label_params", MappingProxyType(dict(self.label_params)))
        object.__setattr__(self, "endpoint_mode", EndpointMode(self.endpoint_mode))
        object.__setattr__(self, "address_strategy", AddressStrategy(self.address_strategy))
