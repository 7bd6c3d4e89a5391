"""What the ZooKeeper adapter tells the outside world about itself (metrics, health, logs).

Why this module exists: only ``dubbomesh.agent`` may import prometheus_client, yet the adapter knows
the interesting facts (connection state, session expiries, watch traffic, resync drift, unreadable
nodes). The adapter calls this small Protocol; the agent implements it with metrics. Calls happen on
the event loop, never from kazoo threads, and must not block. A recording fake ships alongside for
tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class ConnectionState(StrEnum):
    """The connection as the agent sees it (kazoo's states, translated)."""

    CONNECTING = "connecting"
    """Not yet connected since start."""
    CONNECTED = "connected"
    SUSPENDED = "suspended"
    """Connection lost, session may still be alive: keep serving what we have."""
    LOST = "lost"
    """Session gone (expired or auth failed): kazoo reconnects with a new session."""


class SessionEvent(StrEnum):
    """Session lifecycle facts."""

    ESTABLISHED = "established"
    """A new session (first connect, or after an expiry)."""
    RESUMED = "resumed"
    """Reconnected with the same session after a suspension."""
    EXPIRED = "expired"
    AUTH_FAILED = "auth_failed"


class PassReason(StrEnum):
    """Why a complete listing ran."""

    INITIAL = "initial"
    RECONNECT = "reconnect"
    RESYNC = "resync"


class ZkObserver(Protocol):
    """Observability hooks of one registry's mirror. Every method must return quickly."""

    def connection_state(self, registry: str, state: ConnectionState) -> None:
        """The connection changed state."""

    def session_event(self, registry: str, event: SessionEvent) -> None:
        """A session was established, resumed, expired, or refused."""

    def watch_event(self, registry: str, kind: str) -> None:
        """A ZooKeeper watch fired; ``kind`` is the node kind (``providers``, ``instance``...)."""

    def listing_complete(
        self, registry: str, reason: PassReason, *, seconds: float, reads: int, changed: int
    ) -> None:
        """A complete listing finished; after ``INITIAL`` the registry is ready."""

    def resync_drift(self, registry: str, count: int) -> None:
        """A periodic resync found ``count`` nodes differing from the mirror (missed watches)."""

    def bad_node(self, registry: str, path: str, reason: str) -> None:
        """A node could not be read and is skipped (previous knowledge of it is kept)."""


class NullObserver:
    """Observes nothing."""

    def connection_state(self, registry: str, state: ConnectionState) -> None:
        pass

    def session_event(self, registry: str, event: SessionEvent) -> None:
        pass

    def watch_event(self, registry: str, kind: str) -> None:
        pass

    def listing_complete(
        self, registry: str, reason: PassReason, *, seconds: float, reads: int, changed: int
    ) -> None:
        pass

    def resync_drift(self, registry: str, count: int) -> None:
        pass

    def bad_node(self, registry: str, path: str, reason: str) -> None:
        pass


@dataclass
class RecordingObserver:
    """Records every call, for tests and the demo's status output."""

    states: list[ConnectionState] = field(default_factory=list)
    sessions: list[SessionEvent] = field(default_factory=list)
    watches: list[str] = field(default_factory=list)
    passes: list[tuple[PassReason, int, int]] = field(default_factory=list)
    """(reason, reads, changed) per complete listing."""
    drift: list[int] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)

    @property
    def state(self) -> ConnectionState:
        """The latest connection state."""
        return self.states[-1] if self.states else ConnectionState.CONNECTING

    @property
    def ready(self) -> bool:
        """True once the first complete listing was published."""
        return any(reason is PassReason.INITIAL for reason, _, _ in self.passes)

    def connection_state(self, registry: str, state: ConnectionState) -> None:
        self.states.append(state)

    def session_event(self, registry: str, event: SessionEvent) -> None:
        self.sessions.append(event)

    def watch_event(self, registry: str, kind: str) -> None:
        self.watches.append(kind)

    def listing_complete(
        self, registry: str, reason: PassReason, *, seconds: float, reads: int, changed: int
    ) -> None:
        self.passes.append((reason, reads, changed))

    def resync_drift(self, registry: str, count: int) -> None:
        self.drift.append(count)

    def bad_node(self, registry: str, path: str, reason: str) -> None:
        self.bad.append((path, reason))
