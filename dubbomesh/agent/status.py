"""Readiness and debug views: what /readyz, /debug/catalog and friends answer.

Why this module exists: readiness has a precise meaning here (a first complete listing or a loaded
last-known-good catalog, AND the xDS server serving) and operators need the reasons when it is
not ready. Keeping the rules in plain functions over plain state makes them testable without HTTP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from dubbomesh.aio.latest import LatestValue
from dubbomesh.dubbo.model import Catalog
from dubbomesh.mesh.intent import MeshIntent


@dataclass
class RegistryStatus:
    """Mutable per-registry view, updated by the ZooKeeper observer (one task: the loop)."""

    name: str
    hosts: str
    connected: bool = False
    state: str = "connecting"
    listing_complete: bool = False
    last_error: str = ""
    bad_nodes: int = 0
    resync_drift: int = 0

    def report_error(self, message: str) -> None:
        """Remember the last error (shown by /readyz)."""
        self.last_error = message


@dataclass
class AgentStatus:
    """Everything /readyz and /debug report, owned by the event loop."""

    catalogs: LatestValue[Catalog]
    intents: LatestValue[MeshIntent]
    registries: dict[str, RegistryStatus] = field(default_factory=dict)
    xds_serving: bool = False
    xds_enabled: bool = True
    kube_enabled: bool = False
    kube_reachable: bool = False
    kube_leader: bool = False
    kube_last_error: str = ""
    state_loaded_at: float | None = None
    """Unix time the served last-known-good catalog was written; None when fresh or none."""
    state_error: str = ""
    started: float = field(default_factory=time.time)
    shutting_down: bool = False

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, details) for /readyz."""
        catalog = self.catalogs.get()
        reasons = []
        if catalog is None:
            waiting = [r.name for r in self.registries.values() if not r.listing_complete]
            reasons.append(f"no catalog yet: first complete listing pending for {waiting}")
        if self.xds_enabled and not self.xds_serving:
            reasons.append("xDS server not serving")
        if self.shutting_down:
            reasons.append("shutting down")
        details: dict[str, Any] = {
            "ready": not reasons,
            "reasons": reasons,
            "catalog": None
            if catalog is None
            else {
                "version": catalog.version,
                "services": len(catalog),
                "endpoints": catalog.endpoint_count,
                "stale": catalog.stale,
                "stale_since": self.state_loaded_at if catalog.stale else None,
            },
            "registries": {
                r.name: {
                    "hosts": r.hosts,
                    "connected": r.connected,
                    "state": r.state,
                    "listing_complete": r.listing_complete,
                    "last_error": r.last_error,
                    "bad_nodes": r.bad_nodes,
                    "resync_drift": r.resync_drift,
                }
                for r in self.registries.values()
            },
            "xds": {"enabled": self.xds_enabled, "serving": self.xds_serving},
            "kubernetes": {
                "enabled": self.kube_enabled,
                "reachable": self.kube_reachable,
                "leader": self.kube_leader,
                "last_error": self.kube_last_error,
            },
        }
        if self.state_error:
            details["state_file_error"] = self.state_error
        return not reasons, details

    def catalog_view(self) -> dict[str, Any]:
        """/debug/catalog: every service and endpoint."""
        catalog = self.catalogs.get()
        if catalog is None:
            return {"version": None, "services": []}
        return {
            "version": catalog.version,
            "complete": catalog.complete,
            "stale": catalog.stale,
            "services": [s.to_data() for s in catalog],
        }

    def intent_view(self) -> dict[str, Any]:
        """/debug/intent: object names, kinds, versions and rendering problems."""
        intent = self.intents.get()
        if intent is None:
            return {"version": None, "objects": [], "problems": []}
        return {
            "version": intent.version,
            "catalog_version": intent.catalog_version,
            "objects": [
                {
                    "kind": o.kind.value,
                    "name": o.key,
                    "version": o.version,
                    "services": [s.key for s in o.services],
                }
                for o in intent.objects.values()
            ],
            "problems": [{"code": p.code, "text": p.text} for p in intent.problems],
        }
