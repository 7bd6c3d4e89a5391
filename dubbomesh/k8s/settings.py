"""Frozen settings of the Kubernetes sink, one docstring per field.

Why this module exists: the composition root (agent) turns flags into one value and hands it to
:func:`dubbomesh.k8s.sink.run_kubernetes_sink`; everything in ``dubbomesh.k8s`` reads its knobs from
here, so tests and benchmarks can build a sink with exactly the policy they want.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def default_namespace() -> str:
    """The pod's namespace: ``POD_NAMESPACE``, then the service-account file, then ``default``."""
    env = os.environ.get("POD_NAMESPACE", "").strip()
    if env:
        return env
    try:
        return (SERVICE_ACCOUNT_DIR / "namespace").read_text().strip() or "default"
    except OSError:
        return "default"


def default_identity() -> str:
    """A leader-election identity unique per process: ``<hostname>_<random>`` like client-go."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True, slots=True)
class K8sSettings:
    """How the agent talks to one Kubernetes API server."""

    namespace: str = field(default_factory=default_namespace)
    """The ONLY namespace the agent writes (and watches): least privilege, a namespaced Role."""
    kubeconfig: str | None = None
    """Path of a kubeconfig file; None: in-cluster service account, else ``$KUBECONFIG``/~/.kube."""
    context: str | None = None
    """kubeconfig context; None: the current context."""
    registry_name: str = "default"
    """Value of the ``dubbomesh.io/registry`` ownership label: several agents (registries) may
    share a namespace, each owns only its own objects. Must be a valid label value."""
    api_version: str = "v1"
    """Version of ``networking.istio.io`` written: ``v1`` (Istio 1.22+) or ``v1alpha3``."""
    field_manager: str = "dubbomesh"
    """Server-side apply field manager."""
    qps: float = 50.0
    """Client-side rate limit: sustained requests per second to the API server (all verbs)."""
    burst: int = 100
    """Client-side rate limit: requests allowed at once before ``qps`` applies."""
    concurrency: int = 8
    """Requests in flight at once (worker threads: the Python client is synchronous)."""
    grace_period: float = 60.0
    """Seconds an owned object must be absent from complete intents before it is deleted."""
    resync_period: float = 300.0
    """Seconds between full re-checks of desired vs observed even without any event."""
    request_timeout: float = 30.0
    """Seconds before a single (non-watch) request is abandoned and retried."""
    watch_timeout: int = 240
    """Server-side ``timeoutSeconds`` of each watch request (a jitter of up to 25% is added)."""
    max_attempts: int = 6
    """Attempts per write on conflicts, 429 and 5xx before the object waits for the next pass."""
    backoff_initial: float = 0.2
    """First retry delay in seconds (exponential, jittered)."""
    backoff_cap: float = 10.0
    """Largest retry delay in seconds."""
    leader_election: bool = True
    """Elect one writer among replicas with a coordination.k8s.io Lease; False: always write."""
    lease_name: str = "dubbomesh"
    """Name of the Lease (in :attr:`namespace`); make it per registry when several agents run."""
    lease_duration: float = 15.0
    """Seconds a follower waits after the last observed renewal before taking over."""
    renew_deadline: float = 10.0
    """Seconds the leader keeps trying to renew before it stops writing."""
    retry_period: float = 2.0
    """Seconds between lease acquire/renew attempts."""
    identity: str = field(default_factory=default_identity)
    """This replica's holder identity in the Lease."""
    pod_lookup: bool = False
    """Give WorkloadEntries the service account of the pod owning the provider IP (needs list
    on pods in :attr:`namespace`; off unless granted). Provider-given service accounts are then
    dropped: only the pod's identity is trusted."""
    pod_lookup_ttl: float = 30.0
    """Seconds a pod listing is reused before the next lookup lists pods again."""

    def __post_init__(self) -> None:
        if not _DNS1123_LABEL.match(self.namespace):
            raise ValueError(f"invalid namespace {self.namespace!r} (DNS-1123 label expected)")
        if len(self.registry_name) > 63 or not _LABEL_VALUE.match(self.registry_name):
            raise ValueError(f"invalid registry name {self.registry_name!r} (label value)")
        if self.api_version not in ("v1", "v1beta1", "v1alpha3"):
            raise ValueError(f"unsupported networking.istio.io version {self.api_version!r}")
        if self.qps <= 0 or self.burst < 1 or self.concurrency < 1:
            raise ValueError("qps must be > 0, burst and concurrency >= 1")
        if self.grace_period < 0:
            raise ValueError("grace_period must be >= 0")
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError("need 0 < retry_period < renew_deadline < lease_duration")
