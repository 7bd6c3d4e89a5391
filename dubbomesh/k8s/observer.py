"""What the Kubernetes sink reports, as a small Protocol: metrics and health, no prometheus here.

Why this module exists: the agent maps these callbacks to Prometheus metrics and the readiness
endpoint; tests and benchmarks use :class:`CountingObserver` to count requests and writes exactly.
All callbacks run on the event loop and must not block.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol


class K8sObserver(Protocol):
    """Callbacks of the Kubernetes sink."""

    def request(self, verb: str, resource: str, status: int) -> None:
        """One HTTP request finished (status 0: transport error). ``verb`` is the HTTP method."""

    def api_reachable(self, reachable: bool) -> None:
        """Whether the last request reached the API server (readiness of the sink)."""

    def leader(self, is_leader: bool) -> None:
        """This replica became (True) or stopped being (False) the writer."""

    def write(self, kind: str, action: str, name: str) -> None:
        """One object write succeeded; ``action`` is ``apply``, ``replace`` or ``delete``."""

    def noop(self, count: int) -> None:
        """A reconcile pass found ``count`` objects already equal to the intent (no write)."""

    def conflict(self, kind: str, name: str) -> None:
        """A write hit a 409 conflict (it is retried)."""

    def object_error(self, kind: str, name: str, message: str) -> None:
        """The API server rejected this object, or it cannot be written; the rest proceeds."""

    def problem(self, message: str | None) -> None:
        """A condition needing an operator (CRD missing, RBAC forbidden); None when it cleared."""

    def in_step(self, in_step: bool, pending: int) -> None:
        """After a pass: whether observed == desired, and how many objects still differ."""


class NullObserver:
    """Ignores everything."""

    def request(self, verb: str, resource: str, status: int) -> None:
        """Ignored."""

    def api_reachable(self, reachable: bool) -> None:
        """Ignored."""

    def leader(self, is_leader: bool) -> None:
        """Ignored."""

    def write(self, kind: str, action: str, name: str) -> None:
        """Ignored."""

    def noop(self, count: int) -> None:
        """Ignored."""

    def conflict(self, kind: str, name: str) -> None:
        """Ignored."""

    def object_error(self, kind: str, name: str, message: str) -> None:
        """Ignored."""

    def problem(self, message: str | None) -> None:
        """Ignored."""

    def in_step(self, in_step: bool, pending: int) -> None:
        """Ignored."""


@dataclass
class CountingObserver:
    """Counts everything; the fake for tests and the meter for benchmarks."""

    requests: Counter[str] = field(default_factory=Counter)
    """HTTP method -> requests (watch streams count as GET)."""
    writes: Counter[str] = field(default_factory=Counter)
    """action -> successful object writes."""
    written: list[tuple[str, str, str]] = field(default_factory=list)
    noops: int = 0
    conflicts: int = 0
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[str | None] = field(default_factory=list)
    reachable: bool | None = None
    is_leader: bool = False
    leader_changes: int = 0
    last_in_step: bool = False
    last_pending: int = -1
    passes: int = 0

    istio_writes: int = 0
    """Mutating HTTP requests (POST, PUT, PATCH, DELETE) on networking.istio.io objects."""

    @property
    def write_requests(self) -> int:
        """Mutating requests on Istio objects (not leases, not access reviews)."""
        return self.istio_writes

    @property
    def total_writes(self) -> int:
        """Successful object writes of any action."""
        return sum(self.writes.values())

    def request(self, verb: str, resource: str, status: int) -> None:
        """Count the request."""
        self.requests[verb] += 1
        if verb != "GET" and "/networking.istio.io/" in resource:
            self.istio_writes += 1

    def api_reachable(self, reachable: bool) -> None:
        """Remember reachability."""
        self.reachable = reachable

    def leader(self, is_leader: bool) -> None:
        """Remember leadership."""
        self.is_leader = is_leader
        self.leader_changes += 1

    def write(self, kind: str, action: str, name: str) -> None:
        """Count the write."""
        self.writes[action] += 1
        self.written.append((kind, action, name))

    def noop(self, count: int) -> None:
        """Count no-op objects."""
        self.noops += count

    def conflict(self, kind: str, name: str) -> None:
        """Count conflicts."""
        self.conflicts += 1

    def object_error(self, kind: str, name: str, message: str) -> None:
        """Remember the last error per object."""
        self.errors[(kind, name)] = message

    def problem(self, message: str | None) -> None:
        """Remember problems in order."""
        self.problems.append(message)

    def in_step(self, in_step: bool, pending: int) -> None:
        """Remember the last pass result."""
        self.last_in_step = in_step
        self.last_pending = pending
        self.passes += 1
