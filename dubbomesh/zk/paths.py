"""Which ZooKeeper paths the mirror reads, and what each one means.

Why this module exists: a watch notification carries only a path. Mapping a path back to "the
providers of interface X under root R" must be a pure, tested function, shared by the read planner
and the watch handler, so that every path is read the same way however we learn about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from dubbomesh.dubbo.frozen import quick_init
from dubbomesh.dubbo.registry import NON_SERVICE_DIRS


class Kind(IntEnum):
    """Node kinds. ``CHILDREN`` kinds are listed, the others are read for their data."""

    ROOT = 1
    """``/<root>``: interface directories (and config/mapping/metadata, skipped)."""
    PROVIDERS = 2
    """``/<root>/<dir>/providers``."""
    CONFIGURATORS = 3
    """``/<root>/<dir>/configurators``."""
    RULES_DIR = 4
    """``/<root>/config/dubbo``: YAML rules, we keep ``*.configurators``."""
    RULE = 5
    """``/<root>/config/dubbo/<name>.configurators`` (data)."""
    MAPPING_DIR = 6
    """``/<root>/mapping``."""
    MAPPING = 7
    """``/<root>/mapping/<interface>`` (data)."""
    METADATA_DIR = 8
    """``/<root>/metadata``: applications."""
    METADATA_APP = 9
    """``/<root>/metadata/<app>``: revisions."""
    METADATA = 10
    """``/<root>/metadata/<app>/<revision>`` (data)."""
    SERVICES = 11
    """``/services``: applications."""
    APP = 12
    """``/services/<app>``: instance ids."""
    INSTANCE = 13
    """``/services/<app>/<id>`` (data)."""

    @property
    def lists_children(self) -> bool:
        """True for directory kinds (getChildren), False for data kinds (getData)."""
        return self not in _DATA_KINDS

    @property
    def label(self) -> str:
        """A short lower-case name for metrics."""
        return self.name.lower()


_DATA_KINDS = frozenset({Kind.RULE, Kind.MAPPING, Kind.METADATA, Kind.INSTANCE})


@quick_init  # two per interface directory listed: on the first sync's hot path
@dataclass(frozen=True, slots=True)
class Node:
    """A classified path: its kind plus the names parsed out of it."""

    kind: Kind
    path: str
    root: str = ""
    """The interface-level root, or the services root for SERVICES/APP/INSTANCE."""
    a: str = ""
    """First name: interface directory, rule name, mapped interface, or application."""
    b: str = ""
    """Second name: revision or instance id."""


class PathMap:
    """Classifies and builds paths for a fixed set of roots."""

    def __init__(self, roots: tuple[str, ...], services_root: str, app_discovery: bool) -> None:
        self.roots = roots
        self.services_root = services_root
        self.app_discovery = app_discovery

    def top(self) -> list[Node]:
        """The nodes a complete listing starts from."""
        out: list[Node] = []
        for root in self.roots:
            out.append(Node(Kind.ROOT, root, root))
            out.append(Node(Kind.RULES_DIR, f"{root}/config/dubbo", root))
            if self.app_discovery:
                out.append(Node(Kind.MAPPING_DIR, f"{root}/mapping", root))
                out.append(Node(Kind.METADATA_DIR, f"{root}/metadata", root))
        if self.app_discovery:
            sr = self.services_root
            out.append(Node(Kind.SERVICES, sr, sr))
        return out

    def child(self, parent: Node, name: str) -> list[Node]:
        """The nodes to read below ``parent`` for its child ``name``."""
        k, p, root = parent.kind, parent.path, parent.root
        if k is Kind.ROOT:
            if name in NON_SERVICE_DIRS:
                return []
            return [
                Node(Kind.PROVIDERS, f"{p}/{name}/providers", root, name),
                Node(Kind.CONFIGURATORS, f"{p}/{name}/configurators", root, name),
            ]
        if k is Kind.RULES_DIR:
            if not name.endswith(".configurators"):
                return []
            return [Node(Kind.RULE, f"{p}/{name}", root, name)]
        if k is Kind.MAPPING_DIR:
            return [Node(Kind.MAPPING, f"{p}/{name}", root, name)]
        if k is Kind.METADATA_DIR:
            return [Node(Kind.METADATA_APP, f"{p}/{name}", root, name)]
        if k is Kind.METADATA_APP:
            return [Node(Kind.METADATA, f"{p}/{name}", root, parent.a, name)]
        if k is Kind.SERVICES:
            return [Node(Kind.APP, f"{p}/{name}", root, name)]
        if k is Kind.APP:
            return [Node(Kind.INSTANCE, f"{p}/{name}", root, parent.a, name)]
        return []

    def classify(self, path: str) -> Node | None:
        """The node a path denotes, or None when the mirror does not read it."""
        sr = self.services_root
        if self.app_discovery and (path == sr or path.startswith(sr + "/")):
            parts = path[len(sr) + 1 :].split("/") if path != sr else []
            if not parts:
                return Node(Kind.SERVICES, path, sr)
            if len(parts) == 1:
                return Node(Kind.APP, path, sr, parts[0])
            if len(parts) == 2:
                return Node(Kind.INSTANCE, path, sr, parts[0], parts[1])
            return None
        for root in self.roots:
            if path == root:
                return Node(Kind.ROOT, path, root)
            if path.startswith(root + "/"):
                found = self._under_root(root, path, path[len(root) + 1 :].split("/"))
                if found is not None:
                    return found
        return None

    def _under_root(self, root: str, path: str, parts: list[str]) -> Node | None:
        n = len(parts)
        head = parts[0]
        if head == "config":
            if n == 2 and parts[1] == "dubbo":
                return Node(Kind.RULES_DIR, path, root)
            if n == 3 and parts[1] == "dubbo" and parts[2].endswith(".configurators"):
                return Node(Kind.RULE, path, root, parts[2])
            return None
        if self.app_discovery and head == "mapping":
            if n == 1:
                return Node(Kind.MAPPING_DIR, path, root)
            return Node(Kind.MAPPING, path, root, parts[1]) if n == 2 else None
        if self.app_discovery and head == "metadata":
            if n == 1:
                return Node(Kind.METADATA_DIR, path, root)
            if n == 2:
                return Node(Kind.METADATA_APP, path, root, parts[1])
            return Node(Kind.METADATA, path, root, parts[1], parts[2]) if n == 3 else None
        if head in NON_SERVICE_DIRS or n != 2:
            return None
        if parts[1] == "providers":
            return Node(Kind.PROVIDERS, path, root, head)
        if parts[1] == "configurators":
            return Node(Kind.CONFIGURATORS, path, root, head)
        return None
