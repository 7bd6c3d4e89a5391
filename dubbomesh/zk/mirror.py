"""The mirror of one registry: read results in, RegistryEvents out (no IO, no threads, no clock).

Why this module exists: deciding what a listing means (which directories appeared or vanished,
whether anything really changed, when an application's instance set is whole again) is the
delicate part of the adapter, so it is a plain state machine that tests drive with values (habit 1
of the architecture guide). The watcher task owns one Mirror and feeds it kazoo results.

Rules it enforces:
- Until :meth:`complete` is called the first time, events are held (latest per path) and nothing
  is published: a half-listed registry must never look like "these are all the providers".
  With ``early=True`` they are released as they come instead (still full-state per directory,
  so idempotent), for a consumer that itself waits for ``ListingComplete`` before trusting them
  (the catalog builder does): decoding then overlaps the listing's network waits instead of
  starting after it. A directory that vanishes before completion is then reported removed.
- Only successful reads change state. A read lost to a connection problem changes nothing (the
  caller simply re-reads later); "node does not exist" is a successful read of an empty node.
- A leaf emits only when its content differs from what was last emitted: relists and resyncs
  publish the difference only. Leaves keep a digest (a leaf directory: its name set's hash), not
  the names, to stay small.
- An application's instances are emitted once every listed instance's payload has been read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from types import MappingProxyType

import yaml

from dubbomesh.dubbo.registry import (
    NON_SERVICE_DIRS,
    BadNode,
    ConfigRuleChanged,
    ConfiguratorsChanged,
    DirectoryRemoved,
    InstancesChanged,
    MappingChanged,
    MetadataChanged,
    ProvidersChanged,
    RegistryEvent,
)
from dubbomesh.zk.paths import Kind, Node, PathMap


def _digest_names(names: Iterable[str]) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for n in sorted(names):
        h.update(n.encode())
        h.update(b"\n")
    return h.digest()


def _digest_data(data: bytes | None) -> bytes:
    if data is None:
        return b"-"
    return hashlib.blake2b(data, digest_size=16).digest()


def parse_rule(data: bytes | None) -> tuple[object | None, str]:
    """A YAML rule document (safe loader), or (None, why) when absent or unreadable."""
    if data is None:
        return None, ""
    if not data.strip():
        return None, "empty rule"
    try:
        return yaml.safe_load(data.decode("utf-8")), ""
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, f"invalid YAML: {exc}".splitlines()[0]


class Mirror:
    """What one registry looks like, as far as successful reads told us."""

    def __init__(
        self, registry: str, paths: PathMap, *, max_directory_bytes: int, early: bool = False
    ) -> None:
        self.registry = registry
        self.paths = paths
        self.max_directory_bytes = max_directory_bytes
        self.publishing = early
        """Events go out as they come (always after the first complete listing)."""
        self.changes = 0
        """Events produced so far (BadNode excluded): the caller diffs it to count drift."""
        self._names: dict[str, frozenset[str]] = {}
        self._digests: dict[str, bytes | int] = {}
        """Per path: a 16-byte digest of a payload or instance set, a set's hash for a leaf."""
        self._instances: dict[str, dict[str, bytes]] = {}
        self._waiting: dict[str, set[str]] = {}
        self._out: list[RegistryEvent] = []
        self._pending: dict[str, RegistryEvent] = {}

    # -- output -------------------------------------------------------------------------------
    def _emit(self, key: str, event: RegistryEvent) -> None:
        self.changes += 1
        if self.publishing:
            self._out.append(event)
        else:
            self._pending.pop(key, None)
            self._pending[key] = event

    def take_events(self) -> list[RegistryEvent]:
        """Events ready to publish (empty before the first :meth:`complete`)."""
        out, self._out = self._out, []
        return out

    def complete(self) -> list[RegistryEvent]:
        """Mark a complete listing; the first call releases everything held back."""
        if not self.publishing:
            self.publishing = True
            held, self._pending = list(self._pending.values()), {}
            return held + self.take_events()
        return self.take_events()

    # -- input --------------------------------------------------------------------------------
    def on_children(self, node: Node, names: list[str] | None, *, full: bool) -> list[Node]:
        """A listing of ``node`` (None: the node does not exist). Returns the nodes to read next:
        the new children, or every child when ``full`` (a relist walks the whole tree)."""
        if names is not None:
            size = sum(map(len, names))
            if size > self.max_directory_bytes:
                self.on_bad(
                    node,
                    f"directory too large: {len(names)} children, {size} bytes of names "
                    f"> max_directory_bytes={self.max_directory_bytes}",
                )
                return []
        current = frozenset(names or ())
        k = node.kind
        if k is Kind.PROVIDERS or k is Kind.CONFIGURATORS:
            self._leaf_children(node, current)
            return []
        previous = self._names.get(node.path, frozenset())
        self._names[node.path] = current
        for gone in previous - current:
            self._child_removed(node, gone)
        if k is Kind.APP:
            return self._app_listed(node, current, previous, full)
        wanted = current if full else current - previous
        out: list[Node] = []
        for name in wanted:
            out.extend(self.paths.child(node, name))
        return out

    def on_data(self, node: Node, data: bytes | None) -> None:
        """The payload of a data node (None: it does not exist)."""
        if node.kind is Kind.INSTANCE:
            self._instance_read(node, data)
            return
        digest = _digest_data(data)
        if self._digests.get(node.path) == digest:
            return
        if data is None and node.path not in self._digests:
            return  # never seen, still absent: nothing to say
        self._digests[node.path] = digest
        self._emit(node.path, self._data_event(node, data))

    def on_bad(self, node: Node, reason: str) -> None:
        """``node`` could not be read: report it, keep what we knew."""
        if node.kind is Kind.INSTANCE:
            self._instance_done(node.a, node.b)
        event = BadNode(self.registry, node.path, reason)
        if self.publishing:
            self._out.append(event)
        else:
            self._pending.pop("!" + node.path, None)
            self._pending["!" + node.path] = event

    # -- helpers ------------------------------------------------------------------------------
    def _leaf_children(self, node: Node, current: frozenset[str]) -> None:
        # The set's own hash, not a blake2b of its names: it is built from the names' cached
        # string hashes (64-bit, keyed per process), so it costs nothing where hashing ~4 KiB of
        # names cost ~5 us a directory, a tenth of the event loop's work in a first listing.
        # Two different sets share it with odds of about 2**-64; it never leaves the process.
        fingerprint = hash(current)
        if self._digests.get(node.path) == fingerprint:
            return
        self._digests[node.path] = fingerprint
        event: RegistryEvent
        if node.kind is Kind.PROVIDERS:
            event = ProvidersChanged(self.registry, node.root, node.a, current)
        else:
            event = ConfiguratorsChanged(self.registry, node.root, node.a, current)
        self._emit(node.path, event)

    def _data_event(self, node: Node, data: bytes | None) -> RegistryEvent:
        reg, root = self.registry, node.root
        if node.kind is Kind.RULE:
            document, error = parse_rule(data)
            return ConfigRuleChanged(reg, root, node.a, document, error)
        if node.kind is Kind.MAPPING:
            return MappingChanged(reg, root, node.a, data)
        return MetadataChanged(reg, root, node.a, node.b, data)

    def _forget(self, path: str) -> bool:
        self._pending.pop(path, None)
        self._pending.pop("!" + path, None)
        return self._digests.pop(path, None) is not None

    def _child_removed(self, parent: Node, name: str) -> None:
        for child in self.paths.child(parent, name):
            if child.kind in (Kind.PROVIDERS, Kind.CONFIGURATORS):
                self._forget(child.path)
            elif child.kind is Kind.METADATA_APP:
                for rev in self._names.pop(child.path, frozenset()):
                    self._child_removed(child, rev)
            elif child.kind is Kind.APP:
                self._names.pop(child.path, None)
                self._waiting.pop(child.a, None)
                if self._instances.pop(child.a, None) is not None and self._forget(child.path):
                    self._emit(child.path, InstancesChanged(self.registry, child.a))
            elif child.kind is not Kind.INSTANCE and self._forget(child.path):
                self._emit(child.path, self._data_event(child, None))
        if parent.kind is Kind.ROOT and self.publishing and name not in NON_SERVICE_DIRS:
            key = f"{parent.path}/{name}"
            self._emit(key, DirectoryRemoved(self.registry, parent.root, name))

    def _app_listed(
        self, node: Node, current: frozenset[str], previous: frozenset[str], full: bool
    ) -> list[Node]:
        app = node.a
        known = self._instances.setdefault(app, {})
        for gone in previous - current:
            known.pop(gone, None)
        wanted = current if full else current - previous
        waiting = self._waiting.setdefault(app, set())
        waiting.difference_update(previous - current)
        waiting.update(wanted)
        if not waiting:
            self._instances_maybe_changed(node)
        return [c for name in wanted for c in self.paths.child(node, name)]

    def _instance_read(self, node: Node, data: bytes | None) -> None:
        app, iid = node.a, node.b
        known = self._instances.setdefault(app, {})
        listed = self._names.get(node.path.rsplit("/", 1)[0], frozenset())
        if data is None or iid not in listed:
            known.pop(iid, None)
        else:
            known[iid] = data
        self._instance_done(app, iid)

    def _instance_done(self, app: str, iid: str) -> None:
        waiting = self._waiting.get(app)
        if waiting is not None:
            waiting.discard(iid)
            if not waiting:
                app_path = f"{self.paths.services_root}/{app}"
                self._instances_maybe_changed(
                    Node(Kind.APP, app_path, self.paths.services_root, app)
                )

    def _instances_maybe_changed(self, app_node: Node) -> None:
        known = self._instances.get(app_node.a, {})
        digest = _digest_names(f"{k}\0{v.hex()}" for k, v in known.items())
        if self._digests.get(app_node.path) == digest:
            return
        self._digests[app_node.path] = digest
        payloads = MappingProxyType(dict(sorted(known.items())))
        self._emit(app_node.path, InstancesChanged(self.registry, app_node.a, payloads))
