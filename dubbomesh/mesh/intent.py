"""Istio intent as plain data: the one shape both publishers (xDS/MCP and Kubernetes) consume.

Why this module exists: the Kubernetes sink needs manifests (camelCase dicts), the MCP stream needs
protobuf bodies, the local Envoy stream needs hosts, ports and endpoints. Rendering Istio semantics
once, into these frozen values, keeps those three encodings dumb and consistent. Field names follow
``istio.networking.v1alpha3`` (see ``shared/reference/istio-and-xds.md`` s.1).

Every :class:`MeshObject` has a ``version``: a content hash of its spec, labels and annotations.
Publishers compare versions, never objects, to decide whether anything must be sent or written.
The hash is taken over plain tuples (:func:`canonical_spec`, hashed with ``marshal`` format 2, see
:func:`dubbomesh.dubbo.model.tuple_hash`), not over ``repr``: a full render hashes 100,000 objects.
A :class:`MeshIntent` version is order-independent (:func:`intent_term` summed, as the renderer's
incremental table does), so ``MeshIntent.create`` and the renderer agree on equal object sets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from dubbomesh.dubbo.model import ServiceId, VersionSum, tuple_hash

Pairs = tuple[tuple[str, str], ...]
"""A sorted tuple of (key, value): a hashable, deterministic map."""


class Kind(StrEnum):
    """The Istio kinds dubbomesh publishes."""

    SERVICE_ENTRY = "ServiceEntry"
    WORKLOAD_ENTRY = "WorkloadEntry"


class Location(StrEnum):
    """``ServiceEntry.location`` (enum numbers: MESH_EXTERNAL=0, MESH_INTERNAL=1)."""

    MESH_EXTERNAL = "MESH_EXTERNAL"
    MESH_INTERNAL = "MESH_INTERNAL"


class Resolution(StrEnum):
    """``ServiceEntry.resolution`` (NONE=0, STATIC=1, DNS=2, DNS_ROUND_ROBIN=3)."""

    NONE = "NONE"
    STATIC = "STATIC"
    DNS = "DNS"
    DNS_ROUND_ROBIN = "DNS_ROUND_ROBIN"


@dataclass(frozen=True, slots=True)
class PortSpec:
    """``ServicePort``: number=1, protocol=2, name=3, target_port=4."""

    number: int
    protocol: str
    """Istio protocol: GRPC, HTTP, TCP, ..."""
    name: str
    target_port: int = 0


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """``WorkloadEntry`` (also used inline as ``ServiceEntry.endpoints``)."""

    address: str
    ports: Pairs = ()
    """Port NAME -> the endpoint's actual port number."""
    labels: Pairs = ()
    network: str = ""
    locality: str = ""
    weight: int = 0
    """0 means unset (Istio's default weight)."""
    service_account: str = ""


@dataclass(frozen=True, slots=True)
class ServiceEntrySpec:
    """``ServiceEntry`` spec."""

    hosts: tuple[str, ...]
    ports: tuple[PortSpec, ...]
    addresses: tuple[str, ...] = ()
    location: Location = Location.MESH_INTERNAL
    resolution: Resolution = Resolution.STATIC
    endpoints: tuple[WorkloadSpec, ...] = ()
    export_to: tuple[str, ...] = ()
    subject_alt_names: tuple[str, ...] = ()
    workload_selector: Pairs | None = None
    """Labels of the WorkloadEntries this entry selects (WorkloadEntry mode); None = inline."""


Spec = ServiceEntrySpec | WorkloadSpec


def _workload_tuple(w: WorkloadSpec) -> tuple[object, ...]:
    return (w.address, w.ports, w.labels, w.network, w.locality, w.weight, w.service_account)


_KIND_VALUES: dict[str, str] = {str(m.value): str(m.value) for m in Kind}
_VALUES: dict[str, str] = {str(m.value): str(m.value) for e in (Location, Resolution) for m in e}
"""Enum member -> plain str (members are str subclasses; ``.value`` is a slow descriptor)."""


def canonical_spec(spec: Spec) -> tuple[object, ...]:
    """Every field of ``spec`` as plain tuples, str, int and None (the hashing form).

    A test checks that changing any field of either spec type changes this value."""
    if isinstance(spec, WorkloadSpec):
        return ("W", *_workload_tuple(spec))
    return (
        "S",
        spec.hosts,
        tuple((p.number, p.protocol, p.name, p.target_port) for p in spec.ports),
        spec.addresses,
        _VALUES[spec.location],
        _VALUES[spec.resolution],
        tuple(map(_workload_tuple, spec.endpoints)),
        spec.export_to,
        spec.subject_alt_names,
        spec.workload_selector,
    )


@dataclass(frozen=True, slots=True)
class MeshObject:
    """One Istio object to publish, with its Kubernetes metadata and content version."""

    kind: Kind
    namespace: str
    name: str
    """A valid DNS-1123 object name."""
    spec: Spec
    labels: Pairs = ()
    annotations: Pairs = ()
    services: tuple[ServiceId, ...] = ()
    """The catalog services this object was rendered from (for debugging and diffs)."""
    version: str = ""
    """Content hash of kind, name, spec, labels and annotations; filled by :meth:`create`."""

    @classmethod
    def create(
        cls,
        kind: Kind,
        namespace: str,
        name: str,
        spec: Spec,
        *,
        labels: Pairs = (),
        annotations: Pairs = (),
        services: tuple[ServiceId, ...] = (),
    ) -> MeshObject:
        """Build an object and compute its version."""
        labels = tuple(sorted(labels))
        annotations = tuple(sorted(annotations))
        data = (_KIND_VALUES[kind], namespace, name, canonical_spec(spec), labels, annotations)
        return cls(kind, namespace, name, spec, labels, annotations, services, tuple_hash(data))

    @property
    def key(self) -> str:
        """``<namespace>/<name>``: the MCP resource name, unique per kind."""
        return f"{self.namespace}/{self.name}"


def intent_key(kind: Kind, key: str) -> str:
    """The member key of an object in an intent's :class:`VersionSum`."""
    return f"{kind.value}\0{key}"


_NO_OBJECTS: Mapping[tuple[Kind, str], MeshObject] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Problem:
    """A rendering problem an operator must see (name collision, skipped service...)."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class MeshIntent:
    """Everything to publish, keyed by (kind, namespace/name), plus the problems found."""

    objects: Mapping[tuple[Kind, str], MeshObject] = field(default_factory=lambda: _NO_OBJECTS)
    problems: tuple[Problem, ...] = ()
    version: str = ""
    catalog_version: str = ""
    complete: bool = False
    """Copied from the catalog: deletions may be derived only from a complete, fresh intent."""
    stale: bool = False

    @classmethod
    def create(
        cls,
        objects: list[MeshObject],
        *,
        problems: tuple[Problem, ...] = (),
        catalog_version: str = "",
        complete: bool = True,
        stale: bool = False,
    ) -> MeshIntent:
        """Order objects deterministically and hash their versions (order-independent: the same
        value the renderer's incremental table computes for the same objects)."""
        by_key = {(o.kind, o.key): o for o in objects}
        ordered = {k: by_key[k] for k in sorted(by_key)}
        versions = VersionSum()
        for (kind, key), o in ordered.items():
            versions.add(intent_key(kind, key), o.version)
        return cls(
            MappingProxyType(ordered), problems, versions.version, catalog_version, complete, stale
        )

    def of_kind(self, kind: Kind) -> Iterator[MeshObject]:
        """Objects of one kind, in key order."""
        return (o for (k, _), o in self.objects.items() if k is kind)

    def __len__(self) -> int:
        return len(self.objects)
