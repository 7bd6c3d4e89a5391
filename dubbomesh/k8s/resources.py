"""The API resources the agent touches, with their REST paths and the verbs it uses on them.

Why this module exists: one table of what dubbomesh reads and writes keeps the paths, the RBAC
preflight check (:mod:`dubbomesh.k8s.preflight`) and the shipped Role (``deploy/rbac.yaml``,
``charts/dubbomesh/templates/role.yaml``) consistent: if a verb is added in code it must be added
here, and the restricted-identity integration tests fail otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from dubbomesh.mesh.intent import Kind

ISTIO_GROUP = "networking.istio.io"


@dataclass(frozen=True, slots=True)
class Resource:
    """One namespaced resource type."""

    group: str
    """API group; "" for the core group."""
    version: str
    plural: str
    kind: str
    verbs: tuple[str, ...]
    """The verbs dubbomesh uses on it (RBAC must grant exactly these)."""

    @property
    def api_version(self) -> str:
        """``group/version`` (or ``v1`` for core)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_path(self) -> str:
        """Discovery path of the group version."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection(self, namespace: str) -> str:
        """Path of the namespaced collection."""
        return f"{self.group_path}/namespaces/{namespace}/{self.plural}"

    def item(self, namespace: str, name: str) -> str:
        """Path of one object."""
        return f"{self.collection(namespace)}/{name}"

    @property
    def qualified(self) -> str:
        """``plural.group`` as in CRD names and RBAC messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


ISTIO_VERBS = ("list", "watch", "create", "patch", "update", "delete")


def istio_resource(kind: Kind, version: str) -> Resource:
    """ServiceEntry or WorkloadEntry at the configured ``networking.istio.io`` version."""
    plural = "serviceentries" if kind is Kind.SERVICE_ENTRY else "workloadentries"
    return Resource(ISTIO_GROUP, version, plural, kind.value, ISTIO_VERBS)


LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease", ("get", "create", "update"))
PODS = Resource("", "v1", "pods", "Pod", ("list",))
