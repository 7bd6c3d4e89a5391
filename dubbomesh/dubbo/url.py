"""The Dubbo URL value and its Java-parity codec.

Why this module exists: every fact the agent publishes starts as a ZooKeeper child NAME that holds a
`URLEncoder`-encoded Dubbo URL. Existing tools decode it with regexes on the still-encoded name and
lose values containing ``=``, mis-parse IPv6 and ignore every protocol but ``dubbo``. This module
reads names exactly as Apache Dubbo (Java) does; see ``shared/reference/dubbo-registry.md`` s.2.

Contract (other modules rely on it; keep it stable):

- :class:`DubboUrl` is an immutable value. ``params`` holds SINGLE-decoded values (the five keys
  ``rule, mock, refer, export, monitor`` are decoded a second time, as Java does).
- :func:`parse_url` parses a plain (already decoded) URL string; raises :class:`UrlError`.
- :func:`decode_node` decodes one ZooKeeper child name; never raises: errors and warnings are in
  the returned :class:`Decoded`.
- :func:`decode_any` accepts a node name, a full znode path or a plain URL.
- :func:`encode_node` is the inverse of :func:`decode_node` (Java ``URLEncoder`` rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DOUBLE_DECODED_KEYS = frozenset({"rule", "mock", "refer", "export", "monitor"})
"""Parameters whose values Dubbo decodes a second time (they were encoded before insertion)."""


class UrlError(ValueError):
    """An input that is not a Dubbo URL Java would accept. The message says what is wrong.

    Callers report it for that one input (a znode, a CLI argument) and carry on.
    """


@dataclass(frozen=True, slots=True)
class DecodeWarning:
    """Something Java would tolerate (or silently skip) but an operator should know about."""

    code: str
    """Short stable code, e.g. ``lowercase-escape``, ``interface-mismatch``, ``unroutable-host``."""
    text: str
    """One human sentence with the specifics."""


_EMPTY: Mapping[str, str] = MappingProxyType({})


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
    params: Mapping[str, str] = field(default=_EMPTY)
    """Single-decoded values; ``default.X`` already copied to ``X`` where ``X`` was absent."""

    def param(self, key: str, default: str = "") -> str:
        """The value of ``key``, or ``default`` when absent or empty."""
        value = self.params.get(key, "")
        return value if value else default
