"""Settings and the observer Protocol of the xDS server (what the composition root wires).

Why this module exists: the agent configures the server with one frozen value and receives its
facts (streams, pushes, ACKs, NACKs, refusals) through a small Protocol, so dubbomesh.xds never
imports prometheus_client and tests can pass a recording fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class XdsSettings:
    """How and where the ADS server listens. Every field has a safe default."""

    listen: tuple[str, ...] = ("127.0.0.1:15910",)
    """TCP ``HOST:PORT`` addresses (IPv6 as ``[::1]:PORT``); port 0 picks a free port. Loopback by
    default: exposing xDS beyond the host is a deliberate choice."""
    uds: str = ""
    """Also serve on this unix domain socket path (sidecar mode); empty = no socket."""
    tls_cert: str = ""
    """PEM server certificate; with :attr:`tls_key` every listener uses TLS."""
    tls_key: str = ""
    """PEM private key of :attr:`tls_cert`."""
    tls_client_ca: str = ""
    """PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS)."""
    max_streams: int = 1000
    """Most concurrent streams in total; further streams end with RESOURCE_EXHAUSTED."""
    max_streams_per_peer: int = 100
    """Most concurrent streams from one connection (peer address)."""
    max_message_bytes: int = 4 * 1024 * 1024
    """Largest request accepted (larger ones end the stream with RESOURCE_EXHAUSTED)."""
    max_send_bytes: int = 256 * 1024 * 1024
    """Largest response sent (a full MCP snapshot of 10,000 services is a few MB)."""
    keepalive_time_s: float = 60.0
    """Server-initiated HTTP/2 ping interval on idle connections."""
    keepalive_timeout_s: float = 20.0
    """How long a ping may stay unanswered before the connection is closed."""
    min_client_ping_interval_s: float = 5.0
    """Accept client pings this often (istiod pings every 30 s; must be <= 10 s)."""
    write_timeout_s: float = 60.0
    """A stream whose client does not read a response for this long is ended (DEADLINE_EXCEEDED)."""
    grace_s: float = 5.0
    """On shutdown, how long open streams may finish."""

    def __post_init__(self) -> None:
        if self.min_client_ping_interval_s > 10:
            raise ValueError("min_client_ping_interval_s must be <= 10 s (istiod pings every 30 s)")
        if self.max_streams < 1 or self.max_streams_per_peer < 1:
            raise ValueError("stream limits must be positive")


class XdsObserver(Protocol):
    """Facts the xDS server reports; implement on metrics. Calls never block and never raise."""

    def stream_opened(self, protocol: str) -> None:
        """A stream started; ``protocol`` is ``sotw`` or ``delta``."""

    def stream_closed(self, protocol: str) -> None:
        """A stream ended, for whatever reason."""

    def push(self, type_url: str, resources: int) -> None:
        """One response was written (``resources`` changed/contained)."""

    def ack(self, type_url: str) -> None:
        """A client accepted a response."""

    def nack(self, type_url: str, detail: str) -> None:
        """A client rejected a response (``detail`` is its error_detail message)."""

    def rejected(self, reason: str) -> None:
        """A request or stream was refused: ``unknown_type``, ``malformed``, ``too_large``,
        ``too_many_streams``, ``protocol``, ``slow_reader``, ``too_far_behind``."""

    def serving(self, ready: bool) -> None:
        """The server has (True) a snapshot to answer with, or stopped (False)."""

    def delivered(self, intent_version: str) -> None:
        """The first response built from this intent version reached the wire (or no stream was
        open when its snapshot was published)."""


class NullObserver:
    """An observer that ignores everything."""

    def stream_opened(self, protocol: str) -> None:
        pass

    def stream_closed(self, protocol: str) -> None:
        pass

    def push(self, type_url: str, resources: int) -> None:
        pass

    def ack(self, type_url: str) -> None:
        pass

    def nack(self, type_url: str, detail: str) -> None:
        pass

    def rejected(self, reason: str) -> None:
        pass

    def serving(self, ready: bool) -> None:
        pass

    def delivered(self, intent_version: str) -> None:
        pass
