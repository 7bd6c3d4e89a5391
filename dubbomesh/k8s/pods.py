"""Optional pod lookup: provider IP -> the pod's namespace, service account and labels.

Why this module exists: a provider's URL params are written by the provider itself, so an identity
taken from them (service account) can be forged. When ``pod_lookup`` is on (and the Role grants
``list pods``), WorkloadEntries get the service account the API server records for the pod that owns
the provider's IP, and no service account at all when no pod in the namespace owns it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from dubbomesh.k8s import errors
from dubbomesh.k8s.client import KubeClient
from dubbomesh.k8s.manifest import PodIdentity
from dubbomesh.k8s.resources import PODS
from dubbomesh.k8s.settings import K8sSettings

log = logging.getLogger(__name__)


class PodDirectory:
    """A pod listing reused for ``pod_lookup_ttl`` s; the same mapping object while unchanged."""

    def __init__(
        self,
        client: KubeClient,
        settings: K8sSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self._by_ip: Mapping[str, PodIdentity] = MappingProxyType({})
        self._fetched = float("-inf")

    async def __call__(self) -> Mapping[str, PodIdentity]:
        """IP -> identity of running pods in the agent namespace (cached)."""
        if self.clock() - self._fetched < self.settings.pod_lookup_ttl:
            return self._by_ip
        path = PODS.collection(self.settings.namespace)
        try:
            listing = await self.client.call(
                "GET", path, query=[("fieldSelector", "status.phase=Running")], what="list pods"
            )
        except errors.K8sError as exc:
            log.warning("pod lookup failed, keeping the previous listing: %s", exc)
            return self._by_ip
        found: dict[str, PodIdentity] = {}
        for pod in listing.get("items") or []:
            meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
            ident = PodIdentity(
                namespace=str(meta.get("namespace", "")),
                name=str(meta.get("name", "")),
                service_account=str(spec.get("serviceAccountName") or "default"),
                labels=tuple(sorted((meta.get("labels") or {}).items())),
            )
            ips = [p.get("ip") for p in status.get("podIPs") or []] or [status.get("podIP")]
            for ip in ips:
                if ip and not spec.get("hostNetwork"):
                    found[str(ip)] = ident
        self._fetched = self.clock()
        if found != dict(self._by_ip):
            self._by_ip = MappingProxyType(found)
        return self._by_ip
