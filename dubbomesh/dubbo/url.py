"""The decode API for Dubbo registry node names, with Java parity.

Why this module exists: every fact the agent publishes starts as a ZooKeeper child NAME that holds a
`URLEncoder`-encoded Dubbo URL. Existing tools decode it with regexes on the still-encoded name and
lose values containing ``=``, mis-parse IPv6 and ignore every protocol but ``dubbo``. This module
reads names exactly as Apache Dubbo (Java) does; see ``shared/reference/dubbo-registry.md`` s.2.

Contract (other modules rely on it; keep it stable):

- :class:`DubboUrl` (defined in :mod:`dubbomesh.dubbo.urlvalue`, re-exported here with the rest of
  ``__all__``, so ``from dubbomesh.dubbo.url import ...`` stays the one import) is an immutable
  value. ``params`` holds SINGLE-decoded values (the five keys ``rule, mock, refer, export,
  monitor`` are decoded a second time, as Java does).
- :func:`parse_url` parses a plain (already decoded) URL string; raises :class:`UrlError`.
- :func:`decode_node` decodes one ZooKeeper child name; never raises: errors and warnings are in
  the returned :class:`Decoded`.
- :func:`decode_any` accepts a node name, a full znode path or a plain URL.
- :func:`encode_node` is the inverse of :func:`decode_node` (Java ``URLEncoder`` rules).

The Java grammar rules themselves live in :mod:`dubbomesh.dubbo.urlcodec`, next to the fast
path that splits a name on its encoded delimiters before decoding the pieces (same results as
decoding the whole name, checked by property tests). Names of the canonical shape Java and
dubbo-go write (``proto://host[:port]/path?...``, see ``CANONICAL_BODY``) have their body read by
one regex and their routability decided by ``host_kind`` alone; every other case keeps the
general checks.
The decoder is stateless: callers may memoize.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType

from dubbomesh.dubbo.frozen import quick_init
from dubbomesh.dubbo.protocols import ENDPOINT_PROTOCOLS, NON_ENDPOINT_PROTOCOLS
from dubbomesh.dubbo.urlcodec import (
    CANONICAL_BODY,
    DOUBLE_DECODED_KEYS,
    W_UTF8,
    Body,
    DecodeWarning,
    UrlError,
    decode_component,
    encode_component,
    parse_decoded,
    parse_node_fast,
    parse_query_fast,
)
from dubbomesh.dubbo.urlvalue import DEFAULT_CATEGORY, DEFAULT_WEIGHT, DubboUrl, host_kind

__all__ = [
    "CATEGORIES",
    "DEFAULT_CATEGORY",
    "DEFAULT_WEIGHT",
    "DOUBLE_DECODED_KEYS",
    "DecodeWarning",
    "Decoded",
    "DubboUrl",
    "UrlError",
    "decode_any",
    "decode_component",
    "decode_node",
    "encode_component",
    "encode_node",
    "parse_url",
]

CATEGORIES = frozenset({"providers", "consumers", "configurators", "routers"})
"""The registry directories under ``/<root>/<interface>/`` that hold URL nodes."""

_ENDPOINTS = frozenset(ENDPOINT_PROTOCOLS)
_CANONICAL = CANONICAL_BODY.match


# ------------------------------------------------------------------ public decode API


@quick_init
@dataclass(frozen=True, slots=True)
class Decoded:
    """The outcome of decoding one input: a URL (or None) plus warnings, or an error."""

    input: str
    url: DubboUrl | None
    warnings: tuple[DecodeWarning, ...] = ()
    error: str | None = None
    """None when ``url`` is set; else one sentence saying why this input was rejected."""

    def to_json(self) -> dict[str, object]:
        """The CLI's JSON object (also handy for debug endpoints)."""
        u = self.url
        out: dict[str, object] = {"input": self.input}
        if u is None:
            out.update(dict.fromkeys(_JSON_URL_FIELDS))
            out.update(params={}, endpoint_address=None, routable=False)
        else:
            out.update(
                protocol=u.protocol,
                host=u.host,
                port=u.port,
                path=u.path,
                interface=u.interface,
                group=u.group,
                version=u.version,
                service_key=u.service_key,
                category=u.category,
                side=u.side,
                params=dict(sorted(u.params.items())),
                endpoint_address=u.endpoint_address,
                routable=u.routable,
            )
        out["warnings"] = [{"code": w.code, "text": w.text} for w in self.warnings]
        out["error"] = self.error
        return out


_JSON_URL_FIELDS = (
    "protocol", "host", "port", "path", "interface", "group", "version", "service_key",
    "category", "side",
)  # fmt: skip


def _make(parsed: tuple[Body, dict[str, str]]) -> DubboUrl:
    (protocol, username, password, host, port, path), params = parsed
    return DubboUrl(protocol, username, password, host, port, path, MappingProxyType(params))


def parse_url(text: str) -> DubboUrl:
    """Parse a plain (already decoded) Dubbo URL string, trimmed as Java's ``URL.valueOf`` does.
    Raises :class:`UrlError`."""
    return _make(parse_decoded(text.strip(), []))


def encode_node(url: DubboUrl) -> str:
    """The ZooKeeper child name Java would register for ``url``."""
    return encode_component(url.to_string())


def _checked(
    source: str, text: str, warnings: list[DecodeWarning], directory: str | None
) -> Decoded:
    """Parse decoded ``text`` and add the warnings that need the whole URL."""
    try:
        url = _make(parse_decoded(text, warnings))
    except UrlError as exc:
        return Decoded(source, None, tuple(warnings), str(exc))
    return _check(source, url, warnings, directory)


def _check(
    source: str, url: DubboUrl, warnings: list[DecodeWarning], directory: str | None
) -> Decoded:
    protocol = url.protocol
    if protocol in _ENDPOINTS:
        if not url.routable:
            warnings.append(_unroutable(url))
    elif not protocol:
        return Decoded(source, None, tuple(warnings), "not a Dubbo URL: no 'protocol://' part")
    elif protocol not in NON_ENDPOINT_PROTOCOLS:
        warnings.append(DecodeWarning("unknown-protocol", f"protocol {protocol!r} is not known"))
    if directory is not None and directory != (url.params.get("interface") or url.path):
        try:
            expected = decode_component(directory)[0]
        except UrlError:
            expected = directory
        if expected != url.interface:
            warnings.append(
                DecodeWarning(
                    "interface-mismatch",
                    f"directory {expected!r} but URL interface {url.interface!r}; "
                    "following the URL, as Java consumers do",
                )
            )
    return Decoded(source, url, tuple(warnings), None)


def _unroutable(url: DubboUrl) -> DecodeWarning:
    if url.is_loopback:
        return DecodeWarning("loopback-host", f"host {url.host!r} is loopback: not routable")
    if host_kind(url.endpoint_address):
        return DecodeWarning("unroutable-host", f"host {url.host!r} is not a concrete address")
    return DecodeWarning("unroutable-host", f"port {url.port} is not a usable port")


def decode_node(name: str, *, directory: str | None = None) -> Decoded:
    """Decode one ZooKeeper child name exactly once, as Java does. Never raises.

    ``directory`` is the (still encoded) interface directory the child was listed under; a URL
    whose interface differs gets an ``interface-mismatch`` warning.
    """
    text, warnings = (name, []) if name.isascii() else _sanitized(name)
    body = _CANONICAL(text)
    if body is None:
        return _decode_node_fast(name, text, warnings, directory)
    protocol, host, ipv6, port_text, path, query = body.groups()
    params = parse_query_fast(query, warnings)
    if params is None:
        return _decode_node_general(name, directory)
    port = int(port_text) if port_text else 0
    if host is None:
        host = f"[{ipv6.replace('%3A', ':')}]"
    url = DubboUrl(protocol, "", "", host, port, path, MappingProxyType(params))
    # What _check decides, for a plain host (no ':', '[' or '%'; not empty): anything unusual,
    # IPv6 included, goes there, for the very same warnings.
    if (directory is None or directory == (params.get("interface") or path)) and (
        (protocol in _ENDPOINTS and 0 < port <= 65535 and ipv6 is None and not host_kind(host))
        or protocol in NON_ENDPOINT_PROTOCOLS
    ):
        return Decoded(name, url, tuple(warnings) if warnings else (), None)
    return _check(name, url, warnings, directory)


def _decode_node_fast(
    name: str, text: str, warnings: list[DecodeWarning], directory: str | None
) -> Decoded:
    """Names whose body is not canonical (user info, zone ids, bare IPv6, escapes...): split
    first all the same."""
    try:
        fast = parse_node_fast(text, warnings)
    except UrlError:
        fast = None
    if fast is None:
        return _decode_node_general(name, directory)
    (protocol, username, password, host, port, path), params = fast
    url = DubboUrl(protocol, username, password, host, port, path, MappingProxyType(params))
    return _check(name, url, warnings, directory)


def _decode_node_general(name: str, directory: str | None) -> Decoded:
    """The reference path: decode the whole name once, then parse (tests compare both paths)."""
    text, warnings = _sanitized(name)
    try:
        text, found = decode_component(text)
    except UrlError as exc:
        return Decoded(name, None, tuple(warnings), f"malformed node name: {exc}")
    warnings.extend(w for w in found if w not in warnings)
    return _checked(name, text, warnings, directory)


def _sanitized(name: str) -> tuple[str, list[DecodeWarning]]:
    """Lone surrogates (undecodable bytes smuggled in by ``surrogateescape``) become U+FFFD with
    an ``invalid-utf8`` warning, exactly like invalid escaped bytes."""
    if name.isascii():
        return name, []
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = name.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = name.encode("utf-8", "surrogatepass")
        return raw.decode("utf-8", "replace"), [W_UTF8]
    return name, []


def decode_any(text: str) -> Decoded:
    """Decode a node name, a full znode path (``/<root>/<iface>/<category>/<name>``) or a plain
    URL (anything containing a literal ``://``). Never raises."""
    stripped = text.strip()
    if stripped.startswith("/"):
        segments = stripped.split("/")
        if len(segments) < 4 or segments[-2] not in CATEGORIES or not segments[-1]:
            return Decoded(
                text,
                None,
                (),
                "not a registry node path: expected /<root>/<interface>/<category>/<url>",
            )
        decoded = decode_node(segments[-1], directory=segments[-3])
        if decoded.url is not None and decoded.url.category != segments[-2]:
            warning = DecodeWarning(
                "category-mismatch",
                f"listed under {segments[-2]!r} but the URL says category {decoded.url.category!r}",
            )
            decoded = replace(decoded, warnings=(*decoded.warnings, warning))
        return replace(decoded, input=text)
    if "://" in stripped:
        return _checked(text, stripped, [], None)  # a plain URL: already decoded once
    return replace(decode_node(stripped), input=text)
