"""Type URLs: which ones we serve, which we answer empty, which we refuse.

Why this module exists: one ADS stream multiplexes many resource types and istiod names its types
``group/version/Kind`` while Envoy and gRPC use ``type.googleapis.com/<message>``. Classifying a
type URL in one place keeps the stream machine, the snapshot and the server agreeing on it.
Matching is exact: every response echoes the type URL that was requested (istiod silently ignores a
v1alpha3 answer to a v1 request), while the snapshot stores each resource set once under a
canonical :class:`ResourceType`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

ANY_PREFIX = "type.googleapis.com/"
MCP_RESOURCE_TYPE = ANY_PREFIX + "istio.mcp.v1alpha1.Resource"
SERVICE_ENTRY_BODY = ANY_PREFIX + "istio.networking.v1alpha3.ServiceEntry"
WORKLOAD_ENTRY_BODY = ANY_PREFIX + "istio.networking.v1alpha3.WorkloadEntry"

LISTENER = ANY_PREFIX + "envoy.config.listener.v3.Listener"
ROUTE = ANY_PREFIX + "envoy.config.route.v3.RouteConfiguration"
CLUSTER = ANY_PREFIX + "envoy.config.cluster.v3.Cluster"
ENDPOINT = ANY_PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment"

MESH_CONFIG = "core/v1alpha1/MeshConfig"
ISTIO_GROUP_SUFFIX = ".istio.io"
NETWORKING_GROUP = "networking.istio.io"


class ResourceType(Enum):
    """The canonical resource sets a snapshot holds."""

    SERVICE_ENTRY = "ServiceEntry"
    WORKLOAD_ENTRY = "WorkloadEntry"
    LISTENER = "Listener"
    ROUTE = "RouteConfiguration"
    CLUSTER = "Cluster"
    ENDPOINT = "ClusterLoadAssignment"
    EMPTY = "Empty"
    """Types we know and always answer with an empty set (other Istio kinds, Envoy extras)."""


_ENVOY = {
    LISTENER: ResourceType.LISTENER,
    ROUTE: ResourceType.ROUTE,
    CLUSTER: ResourceType.CLUSTER,
    ENDPOINT: ResourceType.ENDPOINT,
}

FULL_STATE = frozenset(
    {
        ResourceType.SERVICE_ENTRY,
        ResourceType.WORKLOAD_ENTRY,
        ResourceType.LISTENER,
        ResourceType.CLUSTER,
        ResourceType.EMPTY,
    }
)
"""SotW types whose every response carries the complete (subscribed) set: absence means deletion.
For RDS and EDS a SotW response may carry only what changed."""

MCP_TYPES = frozenset({ResourceType.SERVICE_ENTRY, ResourceType.WORKLOAD_ENTRY})


class UnknownTypeError(ValueError):
    """The client asked for a type URL nobody serves; the stream is refused (blame the peer)."""


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """A requested type URL and the canonical set that answers it."""

    url: str
    rtype: ResourceType

    @property
    def full_state(self) -> bool:
        """True when a SotW response must carry the whole subscribed set."""
        return self.rtype in FULL_STATE

    @property
    def mcp(self) -> bool:
        """True for istiod's MCP kinds (always wildcard, always full set)."""
        return self.rtype in MCP_TYPES


def classify(type_url: str) -> TypeInfo:
    """Map a requested type URL to its canonical set; raise :class:`UnknownTypeError` if unknown.

    Known: our four Envoy types; any other ``type.googleapis.com/envoy.*`` type (answered empty);
    istiod's ``<group>.istio.io/<version>/<Kind>`` types (ServiceEntry and WorkloadEntry of the
    networking group in any version are ours, every other kind is answered empty) and
    ``core/v1alpha1/MeshConfig`` (answered empty).
    """
    rtype = _ENVOY.get(type_url)
    if rtype is not None:
        return TypeInfo(type_url, rtype)
    if type_url.startswith(ANY_PREFIX + "envoy."):
        return TypeInfo(type_url, ResourceType.EMPTY)
    if type_url == MESH_CONFIG:
        return TypeInfo(type_url, ResourceType.EMPTY)
    parts = type_url.split("/")
    if len(parts) == 3 and all(parts) and parts[0].endswith(ISTIO_GROUP_SUFFIX):
        group, _version, kind = parts
        if group == NETWORKING_GROUP and kind == "ServiceEntry":
            return TypeInfo(type_url, ResourceType.SERVICE_ENTRY)
        if group == NETWORKING_GROUP and kind == "WorkloadEntry":
            return TypeInfo(type_url, ResourceType.WORKLOAD_ENTRY)
        return TypeInfo(type_url, ResourceType.EMPTY)
    shown = type_url[:200]
    raise UnknownTypeError(f"unknown xDS type URL {shown!r}")
