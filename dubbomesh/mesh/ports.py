"""Service ports per Dubbo protocol: Istio protocol, stable number, port name.

Why this module exists: a ServiceEntry's port number must not depend on which provider registered
first (earlier tools did that, so a restart could renumber a service). The number comes from
settings (Dubbo's default per protocol); each endpoint's real port goes into its port map. Port
names follow Istio's ``<protocol>[-suffix]`` convention, or Aeraki's ``tcp-metaprotocol-dubbo``.
"""

from __future__ import annotations

from dubbomesh.mesh.intent import PortSpec
from dubbomesh.mesh.naming import to_label
from dubbomesh.mesh.settings import MeshSettings

HOST_MATCHED = frozenset({"HTTP", "HTTP2", "GRPC", "GRPC-WEB", "HTTPS", "TLS"})
"""Istio protocols whose traffic a sidecar matches by host/authority/SNI. Every other protocol
(TCP above all) is matched by destination address:port, so an entry without ``addresses`` claims
the whole port (istioctl IST0134)."""


def istio_protocol(protocol: str, settings: MeshSettings) -> str:
    """Istio protocol of a Dubbo protocol (TCP when unknown)."""
    return settings.istio_protocols.get(protocol, "TCP")


def needs_address(protocol: str, settings: MeshSettings) -> bool:
    """True when entries serving ``protocol`` must carry addresses to avoid port capture."""
    return istio_protocol(protocol, settings) not in HOST_MATCHED


def port_name(protocol: str, settings: MeshSettings, *, number: int = 0) -> str:
    """``<istio protocol>-<dubbo protocol>[-<number>]``, or ``tcp-metaprotocol-dubbo[-<n>]``."""
    if settings.aeraki and protocol == "dubbo":
        base = "tcp-metaprotocol-dubbo"
    else:
        base = f"{istio_protocol(protocol, settings).lower()}-{to_label(protocol, max_len=40)}"
    return f"{base}-{number}" if number else base


def service_port(protocol: str, settings: MeshSettings) -> PortSpec | None:
    """The interface-level service port of ``protocol``; None when no number is configured."""
    number = settings.ports.get(protocol)
    if number is None:
        return None
    return PortSpec(number, istio_protocol(protocol, settings), port_name(protocol, settings))


def workload_port(protocol: str, number: int, settings: MeshSettings) -> PortSpec:
    """A per-workload port: the provider's real port number, named with it."""
    return PortSpec(
        number, istio_protocol(protocol, settings), port_name(protocol, settings, number=number)
    )
