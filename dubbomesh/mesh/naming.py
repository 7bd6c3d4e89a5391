"""DNS-valid hosts and Kubernetes object names for Dubbo services, and their validators.

Why this module exists: Java interface names are case-sensitive, contain ``$`` and ``_`` and can be
long; group and version are free text. Istio hosts must be DNS names and object names DNS-1123.
Earlier tools lower-cased ``iface-group-version`` (so group ``a`` and version ``a`` collided) or
used ``:`` (which broke Istio routing). The rules here (documented in ``docs/mesh-model.md``):

- a value becomes a DNS label by lower-casing and replacing every character outside ``[a-z0-9-]``
  with ``-``, trimming ``-`` at both ends (empty -> ``x``); a label over 63 characters keeps 54
  and gets ``-`` plus 8 hex of a hash of the ORIGINAL value;
- ``{interface}`` keeps the dots of the Java name (one label per segment); ``{group}`` renders as
  ``g-<label>`` and ``{version}`` as ``v-<label>``, so a group can never read as a version; an
  empty placeholder disappears together with its dot;
- a host over 253 characters keeps its trailing labels and gets a leading hash label;
- object names are the host with dots turned to ``-``, cut to 63 with a hash suffix.

Lower-casing and replacement are lossy (``Foo`` vs ``foo``): the renderer detects the resulting
collisions, reports them and disambiguates every colliding service with a ``h-<hash>`` label.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_BAD = re.compile(r"[^a-z0-9-]")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
MAX_LABEL = 63
MAX_HOST = 253


class NamingError(ValueError):
    """A template that cannot yield DNS names."""


def short_hash(text: str, size: int = 8) -> str:
    """``size`` hex characters of SHA-256 (stable across processes, unlike ``hash``)."""
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def is_dns_label(text: str) -> bool:
    """RFC 1123 label as Kubernetes checks it: lower-case alnum and ``-``, at most 63."""
    return bool(_LABEL.fullmatch(text))


def is_dns_subdomain(text: str) -> bool:
    """Dot-separated labels, at most 253 characters (also a valid Istio host)."""
    return 0 < len(text) <= MAX_HOST and all(is_dns_label(p) for p in text.split("."))


@functools.lru_cache(maxsize=16384)
def to_label(value: str, *, max_len: int = MAX_LABEL) -> str:
    """``value`` as one DNS label (see module rules); cached: applications, namespaces and
    protocols repeat across thousands of objects."""
    label = _BAD.sub("-", value.lower()).strip("-") or "x"
    if len(label) > max_len:
        label = label[: max_len - 9].rstrip("-") + "-" + short_hash(value)
    return label


def interface_labels(interface: str) -> str:
    """A Java interface name as dotted DNS labels (empty segments dropped)."""
    return ".".join(to_label(seg) for seg in interface.split(".") if seg.strip()) or "x"


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
"""Exactly the IPv4 literals ``ipaddress`` accepts (ASCII digits, no leading zeros): a fast path
for the common case, 100,000 provider addresses rendered without building address objects."""


def address_label(address: str) -> str:
    """An IP as one label: ``10-0-0-5``; IPv6 in exploded form (``2001-0db8-...``)."""
    if IPV4.fullmatch(address):
        return address.replace(".", "-")
    return _address_label(address)


@functools.lru_cache(maxsize=4096)
def _address_label(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return to_label(address)
    return to_label(ip.exploded.replace(":", "-").replace(".", "-"))


@functools.lru_cache(maxsize=64)
def _compiled(template: str) -> tuple[tuple[tuple[str, ...], bool], ...]:
    """Each part of ``template`` as alternating literal / placeholder-name tokens (what
    ``re.split`` returns), and whether it holds any placeholder; parsed once per template."""
    out = []
    for part in template.split("."):
        tokens = tuple(_PLACEHOLDER.split(part))
        out.append((tokens, len(tokens) > 1))
    return tuple(out)


def render_template(template: str, values: dict[str, str]) -> str:
    """Fill ``template`` part by part (parts are separated by ``.``); a part made only of empty
    placeholders is dropped; unknown placeholders raise :class:`NamingError`."""
    return shorten_host(fill_template(template, values))


def fill_template(template: str, values: dict[str, str]) -> str:
    """:func:`render_template` before :func:`shorten_host` (lower-cased, parts joined)."""
    parts: list[str] = []
    for tokens, has_names in _compiled(template):
        if not has_names:
            parts.append(tokens[0])
            continue
        pieces = list(tokens)
        for i in range(1, len(tokens), 2):
            name = tokens[i]
            if name not in values:
                raise NamingError(f"unknown placeholder {{{name}}} in {template!r}")
            pieces[i] = values[name]
        text = "".join(pieces)
        if text:
            parts.append(text)
    return ".".join(p for p in parts if p).lower()


def shorten_host(host: str) -> str:
    """``host`` unchanged when it fits 253 characters; else its tail behind a hash label."""
    if len(host) <= MAX_HOST:
        return host
    labels = host.split(".")
    kept: list[str] = []
    size = 9  # "<8 hex>."
    for label in reversed(labels):
        if size + len(label) + 1 > MAX_HOST:
            break
        kept.insert(0, label)
        size += len(label) + 1
    return ".".join([short_hash(host), *kept])


def service_values(
    interface: str, group: str, version: str, *, registry: str = "", namespace: str = ""
) -> dict[str, str]:
    """Placeholder values for an interface-level host."""
    key = f"{group}/{interface}:{version}"
    return {
        "interface": interface_labels(interface),
        "group": f"g-{to_label(group, max_len=61)}" if group else "",
        "version": f"v-{to_label(version, max_len=61)}" if version else "",
        "registry": f"r-{to_label(registry, max_len=61)}" if registry else "",
        "namespace": to_label(namespace) if namespace else "",
        "hash": short_hash(f"{key}@{registry}"),
    }


def workload_values(address: str, application: str, *, namespace: str = "") -> dict[str, str]:
    """Placeholder values for a per-workload host."""
    return {
        "address": address_label(address),
        "application": to_label(application) if application else "",
        "namespace": to_label(namespace) if namespace else "",
    }


def disambiguate(host: str, identity: str) -> str:
    """``host`` with an ``h-<hash>`` label after its first label (used on collisions)."""
    first, _, rest = host.partition(".")
    extra = f"h-{short_hash(identity)}"
    return shorten_host(f"{first}.{extra}.{rest}" if rest else f"{first}.{extra}")


def object_name(base: str, identity: str) -> str:
    """A DNS-1123 label from ``base`` (dots become ``-``); cut to 63 with a hash of
    ``identity`` when longer."""
    name = _BAD.sub("-", base.lower()).strip("-") or "x"
    if len(name) > MAX_LABEL:
        name = name[:54].rstrip("-") + "-" + short_hash(identity)
    return name
