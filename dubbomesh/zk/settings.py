"""Frozen settings of one ZooKeeper registry (ensemble) the agent mirrors.

Why this module exists: the composition root (``dubbomesh.agent``) reads configuration files and
flags; the adapter needs only a small validated value. Grouping every knob here, with a docstring
per field, keeps ``run_registry`` keyword-light and makes a registry's behaviour reviewable in one
place. The digest secret never appears in ``repr`` or logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dubbomesh.zk.errors import ZkConfigError


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Client TLS towards the ensemble (ZooKeeper's secure client port)."""

    ca: str = ""
    """CA bundle path used to verify the servers; empty = system default."""
    certfile: str = ""
    """Client certificate path (mutual TLS); empty = none."""
    keyfile: str = ""
    """Client private key path; empty = none."""
    verify: bool = True
    """Verify the server certificate (disable only for throw-away test ensembles)."""


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """One named registry: where it is, what to watch, how to behave on faults."""

    name: str = "default"
    """Registry name: tags every event and endpoint (``Endpoint.registry``) and every metric."""
    hosts: str = "127.0.0.1:2181"
    """ZooKeeper connect string ``host:port[,host:port...][/chroot]``."""
    roots: tuple[str, ...] = ("/dubbo",)
    """Interface-level roots (Dubbo's registry ``group``), each ``/name``."""
    services_root: str = "/services"
    """Base path of Dubbo 3 application-level discovery."""
    application_discovery: bool = True
    """Mirror ``/services``, ``<root>/mapping`` and ``<root>/metadata`` (Dubbo 3)."""
    auth_digest: str = field(default="", repr=False)
    """``user:password`` for ZooKeeper digest auth; empty = anonymous. Never logged."""
    tls: TlsSettings | None = None
    """TLS towards the ensemble; None = plaintext."""
    session_timeout: float = 15.0
    """Requested session timeout in seconds (the server clamps it to its own bounds)."""
    connect_timeout: float = 10.0
    """Per-attempt connection timeout in seconds."""
    reconnect_max_delay: float = 2.0
    """Cap of the reconnection backoff, in seconds (retries never stop)."""
    resync_interval: float = 600.0
    """Mean seconds between full relists that catch missed watches; 0 disables."""
    resync_jitter: float = 0.2
    """Fraction of ``resync_interval`` randomised, so many agents do not relist together."""
    max_in_flight: int = 1024
    """Pipelining window: how many reads may await an answer at once."""
    early_events: bool = False
    """Emit events during the first listing too, instead of holding them until it completes.
    Only for a consumer that trusts nothing before ``ListingComplete`` (the catalog builder marks
    its catalogs incomplete until then): its decoding overlaps the listing. Faster first sync."""
    max_directory_bytes: int = 8 * 1024 * 1024
    """A listing whose names exceed this is reported as a bad node and skipped (memory guard;
    note a Java client already fails above ``jute.maxbuffer``, 1 MiB by default)."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ZkConfigError("registry name must not be empty")
        if not self.hosts:
            raise ZkConfigError(f"registry {self.name!r}: hosts must not be empty")
        for root in (*self.roots, self.services_root):
            if not root.startswith("/") or root == "/" or root.endswith("/"):
                raise ZkConfigError(f"registry {self.name!r}: {root!r} is not a path like /dubbo")
        if not self.roots:
            raise ZkConfigError(f"registry {self.name!r}: at least one root is required")
        if self.auth_digest and ":" not in self.auth_digest:
            raise ZkConfigError(f"registry {self.name!r}: auth_digest must be user:password")
        if self.max_in_flight < 1:
            raise ZkConfigError(f"registry {self.name!r}: max_in_flight must be >= 1")
        if not 0 <= self.resync_jitter < 1:
            raise ZkConfigError(f"registry {self.name!r}: resync_jitter must be in [0, 1)")
