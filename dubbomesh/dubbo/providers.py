"""Provider node name -> compact :class:`Endpoint`, sharing parts so 100k endpoints stay small.

Why this module exists: the builder memoizes one decoded value per ZooKeeper child name, and at
100,000 endpoints what it keeps per name decides the agent's memory. We keep only the frozen
:class:`Endpoint` (no parsed URL, no param dict) and intern its parts: providers of one interface
usually share identical params once ``timestamp``/``pid`` are gone, so they share one params tuple,
and every endpoint on a host shares one address string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from dubbomesh.dubbo.model import Endpoint, ServiceId, Source
from dubbomesh.dubbo.protocols import NON_ENDPOINT_PROTOCOLS
from dubbomesh.dubbo.url import (
    DEFAULT_CATEGORY,
    DEFAULT_WEIGHT,
    DecodeWarning,
    DubboUrl,
    decode_node,
)

T = TypeVar("T")


class Interner:
    """Share equal immutable values (strings, tuples, ServiceIds) between endpoints.

    The table only grows; the owner calls :meth:`rebuild` with the live endpoints once enough of
    them died (the builder does it after as many removals as there are live endpoints).
    """

    def __init__(self) -> None:
        self._table: dict[object, object] = {}
        self._sids: dict[tuple[str, str, str], ServiceId] = {}

    def __call__(self, value: T) -> T:
        found = self._table.setdefault(value, value)
        return found  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._table)

    def service(self, interface: str, group: str, version: str) -> ServiceId:
        """The shared ServiceId (looked up by a plain tuple: no dataclass hash per endpoint)."""
        parts = (interface, group, version)
        found = self._sids.get(parts)
        if found is None:
            found = self._sids[parts] = self(ServiceId(interface, group, version))
        return found

    def get(self, value: T) -> T | None:
        """The shared copy of ``value``, or None when it was never interned."""
        return self._table.get(value)  # type: ignore[return-value]

    def rebuild(self, endpoints: list[Endpoint]) -> None:
        """Keep only the parts of ``endpoints`` (the live set)."""
        self._table = {}
        self._sids = {}
        for ep in endpoints:
            sid = ep.service
            self._sids.setdefault((sid.interface, sid.group, sid.version), self(sid))
            self.endpoint_parts(ep)

    def endpoint_parts(self, ep: Endpoint) -> None:
        for part in (ep.service, ep.protocol, ep.address, ep.application, ep.registry, ep.params):
            self(part)


@dataclass(frozen=True, slots=True)
class NodeOutcome:
    """What one provider child name yielded: an endpoint, or the reason it yielded none."""

    endpoint: Endpoint | None
    skip: str = ""
    """Empty when ``endpoint`` is set; else a stable reason code (for counters)."""
    detail: str = ""
    warnings: tuple[DecodeWarning, ...] = ()


def classify_error(error: str) -> str:
    """A stable reason code for a decoder error sentence."""
    if error.startswith("malformed node name"):
        return "malformed-name"
    if error.startswith("not a Dubbo URL"):
        return "no-protocol"
    return "bad-url"


def endpoint_from_url(
    url: DubboUrl, *, registry: str, volatile: frozenset[str], intern: Interner
) -> Endpoint:
    """The endpoint a provider URL describes (before overrides)."""
    raw = url.params
    pairs = [kv for kv in raw.items() if kv[0] not in volatile]
    pairs.sort()
    params = tuple(pairs)
    table = intern._table
    share = table.setdefault
    shared = table.get(params)
    if shared is None:  # first time these params are seen: share their pairs with others
        shared = intern(tuple([share(p, p) for p in params]))
    get = raw.get
    return Endpoint(
        intern.service(get("interface") or url.path, get("group") or "", get("version") or ""),
        share(url.protocol, url.protocol),  # type: ignore[arg-type]
        share(address := url.endpoint_address, address),  # type: ignore[arg-type]
        share(port := url.port, port),  # type: ignore[arg-type]
        _weight(url),
        share(app := get("application") or "", app),  # type: ignore[arg-type]
        share(registry, registry),  # type: ignore[arg-type]
        Source.INTERFACE,
        shared,  # type: ignore[arg-type]
    )


def _weight(url: DubboUrl) -> int:
    """``url.weight``, with a fast path for the usual plain number (or no weight at all)."""
    value = url.params.get("weight")
    if value is None:
        return DEFAULT_WEIGHT
    if value.isascii() and value.isdigit() and len(value) <= 10:
        return int(value)
    return url.weight


def decode_endpoint(
    name: str,
    *,
    directory: str,
    registry: str,
    allow_loopback: bool,
    volatile: frozenset[str],
    intern: Interner,
) -> Endpoint | NodeOutcome:
    """Decode one ``providers`` child; never raises. The bare Endpoint when the name decoded
    cleanly (the common case, with no wrapper allocated), else a NodeOutcome."""
    decoded = decode_node(name, directory=directory)
    url = decoded.url
    if url is None:
        error = decoded.error or "undecodable"
        return NodeOutcome(None, classify_error(error), error, decoded.warnings)
    if url.protocol in NON_ENDPOINT_PROTOCOLS:
        # empty:// is the "no providers" marker; the others are rules misplaced under providers.
        code = "empty-marker" if url.protocol == "empty" else "not-an-endpoint"
        return NodeOutcome(None, code, url.protocol, decoded.warnings)
    get = url.params.get
    category = get("category") or DEFAULT_CATEGORY
    if category != "providers" or get("side") == "consumer":
        return NodeOutcome(None, "not-a-provider", category, decoded.warnings)
    if not (get("interface") or url.path):
        return NodeOutcome(None, "no-interface", "URL names no interface", decoded.warnings)
    if not url.routable and not (allow_loopback and url.is_loopback and 0 < url.port <= 65535):
        code = "loopback" if url.is_loopback else "unroutable"
        return NodeOutcome(None, code, f"{url.host}:{url.port}", decoded.warnings)
    ep = endpoint_from_url(url, registry=registry, volatile=volatile, intern=intern)
    return NodeOutcome(ep, "", "", decoded.warnings) if decoded.warnings else ep


def decode_provider(
    name: str,
    *,
    directory: str,
    registry: str,
    allow_loopback: bool,
    volatile: frozenset[str],
    intern: Interner,
) -> NodeOutcome:
    """Decode one ``providers`` child; never raises."""
    out = decode_endpoint(
        name,
        directory=directory,
        registry=registry,
        allow_loopback=allow_loopback,
        volatile=volatile,
        intern=intern,
    )
    return out if isinstance(out, NodeOutcome) else NodeOutcome(out)


def address_usable(address: str, port: int, *, allow_loopback: bool) -> str:
    """Empty when ``address:port`` may be published; else a reason code (instance addresses)."""
    url = DubboUrl(host=address, port=port)
    if url.routable:
        return ""
    if allow_loopback and url.is_loopback and 0 < port <= 65535:
        return ""
    return "loopback" if url.is_loopback else "unroutable"
