"""Decode a provider's parameters once per distinct parameter set, not once per provider.

Why this module exists: the providers of one interface are copies of one application build, so
their node names differ only in the address and in the params that change on every start
(``timestamp``, ``pid``); the query, 80% of a name, is otherwise the same text. The first sync of
10,000 interfaces x 10 providers decoded that same query 100,000 times (~15 us each, two thirds
of the sync's CPU). :class:`QueryMemo` keys what a clean decode derived from the query (service,
weight, application, the shared params tuple) by the still-encoded query with its volatile
segments cut out, and builds the endpoints of the other providers from the address alone.

Why the result is the same as a full decode (tests compare both on every kind of name):

- only canonical names take this lane (``CANONICAL_BODY``: plain ``proto://host:port/path?``,
  ASCII, an endpoint protocol, a plain routable host, a port in 1..65535): exactly the names
  :func:`~dubbomesh.dubbo.url.decode_node` accepts without consulting anything but the query;
- a part is cut only when it is a whole ``&key=digits`` part of a volatile key that no
  decision reads (:data:`READ_KEYS`): digits decode to themselves, warn about nothing, and the
  param is dropped from every endpoint anyway; any other text stays in the key (a volatile
  value that is not all digits too), so equal keys mean equal non-volatile params in the same
  order (Java's last-duplicate-wins included) and the same warnings;
- templates are learnt only from decodes that produced an endpoint with no warning at all, whose
  ``interface`` param equals the directory it was listed under (so the service, the directory
  check and the sid never depend on the path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dubbomesh.dubbo.model import Endpoint, ServiceId, Source
from dubbomesh.dubbo.protocols import ENDPOINT_PROTOCOLS
from dubbomesh.dubbo.urlcodec import CANONICAL_BODY, encode_component
from dubbomesh.dubbo.urlvalue import host_kind

READ_KEYS = frozenset(
    {"interface", "group", "version", "weight", "application", "category", "side"}
    | {"enabled", "disabled"}
)
"""Params whose values decide more than the params tuple: never cut from a key, even when
configured volatile."""

_MATCH = CANONICAL_BODY.match
_ENDPOINTS = frozenset(ENDPOINT_PROTOCOLS)


@dataclass(frozen=True, slots=True)
class Template:
    """What a clean decode derived from a query (the address and port come from each name)."""

    service: ServiceId
    """Its interface is the directory the template was learnt in (its ``interface`` param)."""
    weight: int
    application: str
    params: tuple[tuple[str, str], ...]


class QueryMemo:
    """Single-owner cache of :class:`Template` by volatile-free query; cleared when full."""

    def __init__(self, volatile: frozenset[str], limit: int = 100_000) -> None:
        cut = sorted(k for k in volatile if k not in READ_KEYS and not k.startswith("default."))
        keys = "|".join(re.escape(encode_component(k)) for k in cut) or "(?!)"
        # a whole "&key=digits" part (the lookahead: the value ends there); a value that is not
        # all digits is simply not cut, and stays in the key
        self._middle = re.compile(f"%26(?:{keys})%3D[0-9]*(?=%26|$)")
        self._first = re.compile(f"(?:{keys})%3D[0-9]*(?:%26|$)")
        self._templates: dict[str, Template] = {}
        self._limit = limit
        self.hits = 0

    def __len__(self) -> int:
        return len(self._templates)

    def clear(self) -> None:
        self._templates.clear()

    def key(self, query: str) -> str:
        """``query`` without its volatile ``key=digits`` parts."""
        key = self._middle.sub("", query)
        while (first := self._first.match(key)) is not None:  # volatile first params
            key = key[first.end() :]
        return key

    def split(self, name: str) -> tuple[str, str, str, str] | None:
        """(memo key, protocol, host, port text) of a name fit for this lane, else None."""
        if not name.isascii():
            return None
        found = _MATCH(name)
        if found is None:
            return None
        protocol, host, _ipv6, port, _path, query = found.groups()
        if host is None or port is None or protocol not in _ENDPOINTS:
            return None
        return self.key(query), protocol, host, port

    def endpoint(
        self,
        parts: tuple[str, str, str, str],
        directory: str,
        registry: str,
        shared: dict[object, object],
    ) -> Endpoint | None:
        """The endpoint of a name whose key is known and whose address is plainly routable;
        None sends the name to the full decoder. ``shared`` is the builder's intern table."""
        key, protocol, host, port_text = parts
        template = self._templates.get(key)
        if template is None or template.service.interface != directory:
            return None
        port = int(port_text)
        if not 0 < port <= 65535 or host_kind(host):  # loopback or unspecified: the full path
            return None
        self.hits += 1
        share = shared.setdefault
        return Endpoint(
            template.service,
            share(protocol, protocol),  # type: ignore[arg-type]
            share(host, host),  # type: ignore[arg-type]
            share(port, port),  # type: ignore[arg-type]
            template.weight,
            template.application,
            share(registry, registry),  # type: ignore[arg-type]
            Source.INTERFACE,
            template.params,
        )

    def learn(self, key: str, directory: str, ep: Endpoint) -> None:
        """Remember what a clean full decode of a name with this key produced."""
        if ("interface", directory) not in ep.params:  # the service never came from the path
            return
        if len(self._templates) >= self._limit:
            self._templates.clear()
        self._templates[key] = Template(ep.service, ep.weight, ep.application, ep.params)
