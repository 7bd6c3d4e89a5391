"""Which Dubbo URL protocols name a dialable endpoint, and their default ports.

Why this module exists: a ZooKeeper registry mixes provider URLs (``dubbo://``, ``tri://``...) with
markers that are not endpoints at all (``consumer://``, ``override://``, ``route://``, ``empty://``).
The catalog must publish only the former, and the decoder flags protocols it has never heard of.
Facts from ``shared/reference/dubbo-registry.md`` s.2 ("Protocols and default ports").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

ENDPOINT_PROTOCOLS: Mapping[str, int] = MappingProxyType(
    {
        "dubbo": 20880,  # Dubbo's private binary protocol over TCP
        "tri": 50051,  # Triple: gRPC-compatible HTTP/2 (Dubbo 3)
        "grpc": 50051,
        "rest": 80,
        "http": 80,
        "hessian": 80,
        "webservice": 80,
        "thrift": 40880,
        "jsonrpc": 80,  # HTTP-based (Java dubbo-rpc-jsonrpc, dubbo-go); 80 like the other HTTP ones
        "rmi": 1099,
    }
)
"""Protocols whose provider URL is an address a client dials, with the port Dubbo uses when the
URL carries none. Java compares protocol names case-sensitively; so do we."""

NON_ENDPOINT_PROTOCOLS = frozenset(
    {"consumer", "override", "absent", "route", "condition", "script", "empty", "provider"}
)
"""Protocols of registry entries that are rules or markers, never endpoints."""


def is_endpoint_protocol(protocol: str) -> bool:
    """True when ``protocol`` names a dialable provider endpoint (``dubbo``, ``tri``, ...)."""
    return protocol in ENDPOINT_PROTOCOLS


def default_port(protocol: str) -> int:
    """The protocol's default port, or 0 (Dubbo's "no port") for unknown or non-endpoint ones."""
    return ENDPOINT_PROTOCOLS.get(protocol, 0)
