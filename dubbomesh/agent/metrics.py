"""Prometheus metrics: the only module that imports prometheus_client.

Why this module exists: adapters report through small observer Protocols of their own (so they
never import a metrics library); this module implements those Protocols on top of one
:class:`CollectorRegistry`. Names follow Prometheus conventions: ``dubbomesh_`` prefix, base units
(seconds, bytes), ``_total`` for counters; ``promtool check metrics`` runs over the output in a
test.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import generate_latest

from dubbomesh import __version__

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Every metric of the agent, on a private registry."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        ns = "dubbomesh"
        self.build = Info("build", "Agent build information.", namespace=ns, registry=r)
        self.build.info({"version": __version__})
        # ZooKeeper
        self.zk_connected = Gauge(
            "zookeeper_connected",
            "1 while the registry's ZooKeeper session is connected.",
            ["registry"],
            namespace=ns,
            registry=r,
        )
        self.zk_session_events = Counter(
            "zookeeper_session_events",
            "ZooKeeper session state changes.",
            ["registry", "event"],
            namespace=ns,
            registry=r,
        )
        self.zk_watch_events = Counter(
            "zookeeper_watch_events",
            "Watch notifications received.",
            ["registry", "kind"],
            namespace=ns,
            registry=r,
        )
        self.zk_resyncs = Counter(
            "zookeeper_resyncs",
            "Completed full relistings.",
            ["registry", "reason"],
            namespace=ns,
            registry=r,
        )
        self.zk_resync_drift = Counter(
            "zookeeper_resync_drift",
            "Directories a relisting found different from the watched view.",
            ["registry"],
            namespace=ns,
            registry=r,
        )
        self.zk_bad_nodes = Counter(
            "zookeeper_bad_nodes",
            "Directories or nodes that could not be read.",
            ["registry", "reason"],
            namespace=ns,
            registry=r,
        )
        self.zk_listing_complete = Gauge(
            "zookeeper_listing_complete",
            "1 once the registry finished its first complete listing.",
            ["registry"],
            namespace=ns,
            registry=r,
        )
        self.decode_errors = Counter(
            "decode_errors",
            "Registry nodes the catalog builder rejected or doubted, by reason "
            "(malformed-name, unroutable, interface-mismatch, bad-rule...).",
            ["reason"],
            namespace=ns,
            registry=r,
        )
        # Catalog
        self.catalog_services = Gauge(
            "catalog_services", "Services in the current catalog.", namespace=ns, registry=r
        )
        self.catalog_endpoints = Gauge(
            "catalog_endpoints", "Endpoints in the current catalog.", namespace=ns, registry=r
        )
        self.catalog_versions = Counter(
            "catalog_versions", "Catalog versions published.", namespace=ns, registry=r
        )
        self.catalog_events = Counter(
            "catalog_events", "Registry events folded into catalogs.", namespace=ns, registry=r
        )
        self.catalog_stale = Gauge(
            "catalog_stale",
            "1 while serving the last-known-good catalog instead of a fresh listing.",
            namespace=ns,
            registry=r,
        )
        self.mesh_objects = Gauge(
            "mesh_objects",
            "Istio objects in the current intent.",
            ["kind"],
            namespace=ns,
            registry=r,
        )
        self.mesh_problems = Gauge(
            "mesh_problems",
            "Rendering problems (collisions...) in the current intent.",
            ["code"],
            namespace=ns,
            registry=r,
        )
        self.propagation = Histogram(
            "propagation_seconds",
            "Time from a ZooKeeper event to its delivery by a sink.",
            ["sink"],
            buckets=LATENCY_BUCKETS,
            namespace=ns,
            registry=r,
        )
        # xDS
        self.xds_streams = Gauge(
            "xds_streams", "Open xDS streams.", ["protocol"], namespace=ns, registry=r
        )
        self.xds_pushes = Counter(
            "xds_pushes", "xDS responses sent.", ["type"], namespace=ns, registry=r
        )
        self.xds_acks = Counter(
            "xds_acks", "xDS ACKs received.", ["type"], namespace=ns, registry=r
        )
        self.xds_nacks = Counter(
            "xds_nacks", "xDS NACKs received.", ["type"], namespace=ns, registry=r
        )
        self.xds_rejected = Counter(
            "xds_rejected_requests",
            "xDS requests or streams refused.",
            ["reason"],
            namespace=ns,
            registry=r,
        )
        # Kubernetes
        self.kube_writes = Counter(
            "kubernetes_writes",
            "Objects applied or deleted.",
            ["kind", "operation"],
            namespace=ns,
            registry=r,
        )
        self.kube_noops = Counter(
            "kubernetes_noop_skips",
            "Desired objects already up to date (no request sent).",
            namespace=ns,
            registry=r,
        )
        self.kube_conflicts = Counter(
            "kubernetes_conflicts", "409 conflicts retried.", namespace=ns, registry=r
        )
        self.kube_errors = Counter(
            "kubernetes_errors", "Failed API requests.", ["reason"], namespace=ns, registry=r
        )
        self.kube_leader = Gauge(
            "kubernetes_leader", "1 while this replica holds the lease.", namespace=ns, registry=r
        )
        self.kube_reachable = Gauge(
            "kubernetes_api_reachable", "1 while the API server answers.", namespace=ns, registry=r
        )
        # State file
        self.state_age = Gauge(
            "state_file_age_seconds",
            "Age of the last-known-good catalog being served (0 when fresh).",
            namespace=ns,
            registry=r,
        )
        self.state_writes = Counter(
            "state_file_writes", "Last-known-good file writes.", namespace=ns, registry=r
        )
        self.state_errors = Counter(
            "state_file_errors",
            "Last-known-good file read/write failures.",
            ["operation"],
            namespace=ns,
            registry=r,
        )

    def exposition(self) -> bytes:
        """The text exposition format for /metrics."""
        return generate_latest(self.registry)
