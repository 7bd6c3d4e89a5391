"""Registry change events: the boundary between the ZooKeeper adapter and the pure catalog builder.

Why this module exists: the ``zk`` package owns sockets and watches; the ``dubbo`` package owns
meaning. They meet here, in plain immutable values. Every event carries the FULL current state of
one directory (never a delta), so events are idempotent: a resync that re-reads a directory emits
the same event and changes nothing. A lost session emits nothing at all, so it can never be read as
"zero providers"; only a successful read of a directory can empty it.

Paths (``shared/reference/dubbo-registry.md`` s.1 and s.4)::

    /<root>/<encode(interface)>/providers/<encode(url)>      -> ProvidersChanged
    /<root>/<encode(interface)>/configurators/<encode(url)>  -> ConfiguratorsChanged
    /<root>/config/dubbo/<name>.configurators (YAML)         -> ConfigRuleChanged
    /services/<app>/<instance id> (JSON)                     -> InstancesChanged
    /<root>/mapping/<interface> ("app1,app2")                -> MappingChanged
    /<root>/metadata/<app>/<revision> (JSON)                 -> MetadataChanged
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dubbomesh.dubbo.frozen import quick_init

NON_SERVICE_DIRS = frozenset({"config", "mapping", "metadata"})
"""Children of a root that are not interface directories (Dubbo 2.7.5+ / 3.x)."""

SERVICES_ROOT = "/services"
"""Where Dubbo 3 application-level discovery registers instances (Curator's default base path)."""

_NO_DATA: Mapping[str, bytes] = MappingProxyType({})


@quick_init  # 10,000 of each per first listing of a big registry
@dataclass(frozen=True, slots=True)
class ProvidersChanged:
    """The complete set of child names now under ``/<root>/<directory>/providers``."""

    registry: str
    root: str
    directory: str
    """The interface directory name as it appears in ZooKeeper (still URL-encoded)."""
    children: frozenset[str]


@quick_init  # 10,000 of each per first listing of a big registry
@dataclass(frozen=True, slots=True)
class ConfiguratorsChanged:
    """The complete set of child names now under ``/<root>/<directory>/configurators``."""

    registry: str
    root: str
    directory: str
    children: frozenset[str]


@dataclass(frozen=True, slots=True)
class DirectoryRemoved:
    """``/<root>/<directory>`` no longer exists (seen by a successful listing of the root)."""

    registry: str
    root: str
    directory: str


@dataclass(frozen=True, slots=True)
class ConfigRuleChanged:
    """A Dubbo 2.7+ YAML rule ``/<root>/config/dubbo/<name>``.

    The adapter parses the YAML (the pure core has no YAML parser) and passes the document as plain
    data; ``document`` is None when the node was deleted or could not be parsed (then ``error``
    says why, and the builder keeps no rule for that name).
    """

    registry: str
    root: str
    name: str
    document: object | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class InstancesChanged:
    """The complete set of instances of one application: instance id -> raw JSON payload."""

    registry: str
    app: str
    instances: Mapping[str, bytes] = field(default_factory=lambda: _NO_DATA)


@dataclass(frozen=True, slots=True)
class MappingChanged:
    """``/<root>/mapping/<interface>``: the applications serving an interface; None when deleted."""

    registry: str
    root: str
    interface: str
    data: bytes | None


@dataclass(frozen=True, slots=True)
class MetadataChanged:
    """``/<root>/metadata/<app>/<revision>``: a MetadataInfo JSON; None when deleted."""

    registry: str
    root: str
    app: str
    revision: str
    data: bytes | None


@dataclass(frozen=True, slots=True)
class ListingComplete:
    """The registry finished a complete listing (first sync, or relist after reconnect)."""

    registry: str


@dataclass(frozen=True, slots=True)
class BadNode:
    """A directory or node the adapter could not read (too big, permission denied...).

    Reported, counted, and otherwise ignored: the builder keeps what it had for that path.
    """

    registry: str
    path: str
    reason: str


RegistryEvent = (
    ProvidersChanged
    | ConfiguratorsChanged
    | DirectoryRemoved
    | ConfigRuleChanged
    | InstancesChanged
    | MappingChanged
    | MetadataChanged
    | ListingComplete
    | BadNode
)
