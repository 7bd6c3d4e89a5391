"""Adapters' observer Protocols implemented on Prometheus metrics and the agent's status.

Why this module exists: the ZooKeeper, xDS and Kubernetes adapters report facts through their own
small Protocols and never import prometheus_client; this module is where those facts become
metrics, readiness details and propagation-latency observations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dubbomesh.agent.metrics import Metrics
from dubbomesh.agent.status import AgentStatus, RegistryStatus
from dubbomesh.dubbo.builder import CatalogBuilder
from dubbomesh.dubbo.model import Catalog
from dubbomesh.mesh.intent import Kind, MeshIntent
from dubbomesh.zk.observer import ConnectionState, PassReason, SessionEvent

if TYPE_CHECKING:
    from dubbomesh.agent.app import Agent


class Propagation:
    """Observes ZooKeeper-event-to-delivery latency once per catalog version per sink."""

    def __init__(self, agent: Agent, sink: str) -> None:
        self._agent = agent
        self._sink = sink
        self._last = ""

    def delivered(self) -> None:
        """The sink just delivered the newest intent (a push, or API in step)."""
        intent = self._agent.intents.get()
        if intent is None or intent.catalog_version == self._last or intent.stale:
            return
        self._last = intent.catalog_version
        age = self._agent.clock.age(intent.catalog_version)
        if age is not None:
            self._agent.metrics.propagation.labels(self._sink).observe(age)


def propagation_hook(agent: Agent) -> Callable[[str], Propagation]:
    """A factory of per-sink propagation observers."""
    return lambda sink: Propagation(agent, sink)


class ZkMetrics:
    """:class:`dubbomesh.zk.observer.ZkObserver` on metrics and the registry's status."""

    def __init__(self, metrics: Metrics, status: RegistryStatus) -> None:
        self.m = metrics
        self.s = status
        self.m.zk_connected.labels(status.name).set(0)
        self.m.zk_listing_complete.labels(status.name).set(0)

    def connection_state(self, registry: str, state: ConnectionState) -> None:
        self.s.state = state.value
        self.s.connected = state is ConnectionState.CONNECTED
        self.m.zk_connected.labels(registry).set(1 if self.s.connected else 0)

    def session_event(self, registry: str, event: SessionEvent) -> None:
        self.m.zk_session_events.labels(registry, event.value).inc()
        if event in (SessionEvent.EXPIRED, SessionEvent.AUTH_FAILED):
            self.s.last_error = f"session {event.value}"

    def watch_event(self, registry: str, kind: str) -> None:
        self.m.zk_watch_events.labels(registry, kind).inc()

    def listing_complete(
        self, registry: str, reason: PassReason, *, seconds: float, reads: int, changed: int
    ) -> None:
        del seconds, reads, changed
        self.s.listing_complete = True
        self.m.zk_listing_complete.labels(registry).set(1)
        self.m.zk_resyncs.labels(registry, reason.value).inc()

    def resync_drift(self, registry: str, count: int) -> None:
        self.s.resync_drift += count
        self.m.zk_resync_drift.labels(registry).inc(count)

    def bad_node(self, registry: str, path: str, reason: str) -> None:
        self.s.bad_nodes += 1
        self.s.last_error = f"{path}: {reason}"
        self.m.zk_bad_nodes.labels(registry, reason.split(":", 1)[0][:40]).inc()


class PipelineMetrics:
    """Catalog and intent stage metrics."""

    def __init__(self, metrics: Metrics, builder: CatalogBuilder) -> None:
        self.m = metrics
        self.builder = builder
        self._problems: dict[str, int] = {}

    def catalog_published(self, catalog: Catalog, events: int) -> None:
        self.m.catalog_versions.inc()
        self.m.catalog_events.inc(events)
        self.m.catalog_services.set(len(catalog))
        self.m.catalog_endpoints.set(catalog.endpoint_count)
        problems = self.builder.problem_counts  # stats would walk every service
        for reason, count in problems.items():
            delta = count - self._problems.get(reason, 0)
            if delta > 0:
                self.m.decode_errors.labels(reason).inc(delta)
        self._problems = dict(problems)

    def intent_published(self, intent: MeshIntent) -> None:
        for kind in Kind:
            self.m.mesh_objects.labels(kind.value).set(sum(1 for _ in intent.of_kind(kind)))
        self.m.mesh_problems.clear()
        counts: dict[str, int] = {}
        for p in intent.problems:
            counts[p.code] = counts.get(p.code, 0) + 1
        for code, n in counts.items():
            self.m.mesh_problems.labels(code).set(n)


class K8sMetrics:
    """:class:`dubbomesh.k8s.observer.K8sObserver` on metrics and status."""

    def __init__(
        self, metrics: Metrics, status: AgentStatus, propagation: Callable[[str], Propagation]
    ) -> None:
        self.m = metrics
        self.s = status
        self.p = propagation("kubernetes")

    def request(self, verb: str, resource: str, status: int) -> None:
        if status == 0 or status >= 500 or status == 429:
            self.m.kube_errors.labels(str(status) if status else "transport").inc()

    def api_reachable(self, reachable: bool) -> None:
        self.s.kube_reachable = reachable
        self.m.kube_reachable.set(1 if reachable else 0)

    def leader(self, is_leader: bool) -> None:
        self.s.kube_leader = is_leader
        self.m.kube_leader.set(1 if is_leader else 0)

    def write(self, kind: str, action: str, name: str) -> None:
        self.m.kube_writes.labels(kind, action).inc()

    def noop(self, count: int) -> None:
        self.m.kube_noops.inc(count)

    def conflict(self, kind: str, name: str) -> None:
        self.m.kube_conflicts.inc()

    def object_error(self, kind: str, name: str, message: str) -> None:
        self.m.kube_errors.labels("rejected").inc()
        self.s.kube_last_error = f"{kind} {name}: {message}"[:300]

    def problem(self, message: str | None) -> None:
        self.s.kube_last_error = message or ""

    def in_step(self, in_step: bool, pending: int) -> None:
        if in_step and pending == 0:
            self.p.delivered()


class XdsMetrics:
    """:class:`dubbomesh.xds.settings.XdsObserver` on metrics and status."""

    def __init__(
        self, metrics: Metrics, status: AgentStatus, propagation: Callable[[str], Propagation]
    ) -> None:
        self.m = metrics
        self.s = status
        self.p = propagation("xds")

    def stream_opened(self, protocol: str) -> None:
        self.m.xds_streams.labels(protocol).inc()

    def stream_closed(self, protocol: str) -> None:
        self.m.xds_streams.labels(protocol).dec()

    def push(self, type_url: str, resources: int) -> None:
        self.m.xds_pushes.labels(type_url).inc()

    def ack(self, type_url: str) -> None:
        self.m.xds_acks.labels(type_url).inc()

    def nack(self, type_url: str, detail: str) -> None:
        self.m.xds_nacks.labels(type_url).inc()

    def rejected(self, reason: str) -> None:
        self.m.xds_rejected.labels(reason).inc()

    def serving(self, ready: bool) -> None:
        self.s.xds_serving = ready

    def delivered(self, intent_version: str) -> None:
        self.p.delivered()
