"""The Dubbo URL value: what a parsed registry node is, and what its host means.

Why this module exists: every part of the agent past the decoder (providers, overrides, rules, the
builder) holds and queries :class:`DubboUrl` values, but none of them needs the decoder. Keeping
the value apart from :mod:`dubbomesh.dubbo.url` (the decode API, which re-exports everything here
that it lists in its ``__all__``) keeps both modules readable: this one is the Java getter
semantics, that one the performance-tuned decoding lanes.

Contract (other modules rely on it; keep it stable):

- :class:`DubboUrl` is an immutable, hashable value, as Java's ``URL.valueOf`` keeps a URL.
  ``params`` holds SINGLE-decoded values (the five keys ``rule, mock, refer, export, monitor`` are
  decoded a second time, as Java does); its getters read params with Java's defaults.
- :func:`host_kind` classifies a host (``unspecified``, ``loopback`` or concrete), which decides
  :attr:`DubboUrl.routable`; ``decode_node``'s canonical-body lane and the query memo ask it
  directly for plain hosts.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dubbomesh.dubbo.frozen import quick_init
from dubbomesh.dubbo.model import ServiceId
from dubbomesh.dubbo.urlcodec import DOUBLE_DECODED_KEYS, encode_component

__all__ = ["DEFAULT_CATEGORY", "DEFAULT_WEIGHT", "DubboUrl", "host_kind"]

DEFAULT_CATEGORY = "providers"
"""Java's ``url.getCategory(DEFAULT_CATEGORY)``: a URL without ``category`` counts as a provider."""
DEFAULT_WEIGHT = 100

_EMPTY: Mapping[str, str] = MappingProxyType({})
_INT = re.compile(r"[+-]?[0-9]{1,10}")


@quick_init
@dataclass(frozen=True, slots=True)
class DubboUrl:
    """A parsed Dubbo URL, as Java's ``URL.valueOf`` keeps it."""

    protocol: str = ""
    username: str = ""
    password: str = ""
    host: str = ""
    """As Java keeps it: a bracketed IPv6 literal keeps its brackets here."""
    port: int = 0
    """0 when the authority has no port."""
    path: str = ""
    """Without the leading ``/``."""
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Single-decoded values; ``default.X`` already copied to ``X`` where ``X`` was absent."""

    def __hash__(self) -> int:  # the generated one would fail: a mapping is not hashable
        return hash(
            (self.protocol, self.host, self.port, self.path, frozenset(self.params.items()))
        )

    def param(self, key: str, default: str = "") -> str:
        """The value of ``key``, or ``default`` when absent or empty."""
        value = self.params.get(key, "")
        return value if value else default

    @property
    def interface(self) -> str:
        """The ``interface`` param, else the path (Java ``getServiceInterface``)."""
        return self.param("interface", self.path)

    @property
    def group(self) -> str:
        return self.param("group")

    @property
    def version(self) -> str:
        """Compared literally, as Java does (``0.0.0`` is NOT the same as no version)."""
        return self.param("version")

    @property
    def service_id(self) -> ServiceId:
        return ServiceId(self.interface, self.group, self.version)

    @property
    def service_key(self) -> str:
        """``[group/]interface[:version]``, empty parts omitted."""
        return self.service_id.key

    @property
    def category(self) -> str:
        """The ``category`` param, default ``providers`` as Java's registry reads it."""
        return self.param("category", DEFAULT_CATEGORY)

    @property
    def side(self) -> str:
        return self.param("side")

    @property
    def application(self) -> str:
        return self.param("application")

    @property
    def weight(self) -> int:
        """The ``weight`` param; 100 when absent or not an integer; negative counts as 0 (Java
        load balancers clamp it)."""
        value = self.params.get("weight", "")
        if not _INT.fullmatch(value):
            return DEFAULT_WEIGHT
        return max(int(value), 0)

    @property
    def enabled(self) -> bool:
        """Java ``getParameter("enabled", true)``: absent or empty is true, else only ``true``
        (any case) is. Note Java consumers check ``disabled`` first when it is present."""
        value = self.params.get("enabled", "")
        return not value or value.lower() == "true"

    @property
    def disabled(self) -> bool:
        """``disabled=true`` (any case): consumers build no invoker (usually set by an override)."""
        return self.params.get("disabled", "").lower() == "true"

    @property
    def endpoint_address(self) -> str:
        """What a client dials: the host without IPv6 brackets and without a ``%zone`` id."""
        host = self.host
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if ":" in host and "%" in host:
            host = host[: host.index("%")]
        return host

    @property
    def is_loopback(self) -> bool:
        """``localhost``, ``127.*``, ``::1`` (also IPv4-mapped ``::ffff:127.*``)."""
        return host_kind(self.endpoint_address) == "loopback"

    @property
    def routable(self) -> bool:
        """A concrete, non-loopback host and a port in 1..65535."""
        if not 0 < self.port <= 65535:
            return False
        host = self.host
        if host[:1] == "[" or "%" in host:
            host = self.endpoint_address
        return host_kind(host) == ""

    def is_routable(self, *, allow_loopback: bool = False) -> bool:
        """:attr:`routable`, or, with ``allow_loopback`` (``--allow-loopback-endpoints``), also a
        loopback host with a usable port."""
        if self.routable:
            return True
        return allow_loopback and 0 < self.port <= 65535 and self.is_loopback

    @property
    def timestamp_ms(self) -> int | None:
        """``timestamp`` in ms; dubbo-go writes 10-digit SECONDS, converted here. None if absent."""
        value = self.params.get("timestamp", "")
        if not (value.isascii() and value.isdigit()):
            return None
        return int(value) * 1000 if len(value) <= 10 else int(value)

    def to_string(self) -> str:
        """Java ``toFullString``: params sorted by key, values trimmed, the five nested keys
        re-encoded (so ``decode_node(encode_node(u))`` gives ``u`` back). Unlike Java, a port is
        written even when the host is empty, so that nothing is lost."""
        out = [self.protocol, "://"] if self.protocol else []
        if self.username:
            out += (
                [self.username, ":", self.password, "@"] if self.password else [self.username, "@"]
            )
        out += [self.host, ":", str(self.port)] if self.port > 0 else [self.host]
        if self.path:
            out += ["/", self.path]
        if self.params:
            pairs = []
            for key in sorted(self.params):
                value = self.params[key].strip()
                if key in DOUBLE_DECODED_KEYS:
                    value = encode_component(value)
                pairs.append(f"{key}={value}")
            out += ["?", "&".join(pairs)]
        return "".join(out)


def host_kind(address: str) -> str:
    """Classify a host: ``unspecified``, ``loopback``, or empty for a concrete address."""
    if ":" not in address:
        if address.startswith("127.") or (len(address) == 9 and address.lower() == "localhost"):
            return "loopback"
        return "unspecified" if not address or address == "0.0.0.0" else ""
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return ""
    if ip.is_unspecified:
        return "unspecified"
    mapped = ip.ipv4_mapped
    return "loopback" if ip.is_loopback or (mapped is not None and mapped.is_loopback) else ""
