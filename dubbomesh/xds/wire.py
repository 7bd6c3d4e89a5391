"""Hand-framed protobuf responses: resources encoded once, shared by every stream.

Why this module exists: a snapshot holds each resource as the serialized bytes of its
``google.protobuf.Any``. A ``DiscoveryResponse`` is just a few scalar fields plus the repeated
``resources`` field (2), and protobuf's wire format lets a repeated message field be written as
concatenated pre-encoded frames. Building responses by joining frames means a push to 100 streams
serializes nothing: each stream only adds its own nonce. The layout follows
``envoy/service/discovery/v3/discovery.proto``; tests parse our bytes back with the real classes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# DiscoveryResponse
_SOTW_VERSION, _SOTW_RESOURCES, _SOTW_TYPE_URL, _SOTW_NONCE = 1, 2, 4, 5
# DeltaDiscoveryResponse
_DELTA_SYSTEM_VERSION, _DELTA_RESOURCES, _DELTA_TYPE_URL, _DELTA_NONCE, _DELTA_REMOVED = (
    1,
    2,
    4,
    5,
    6,
)
# envoy.service.discovery.v3.Resource
_RES_VERSION, _RES_ANY, _RES_NAME = 1, 2, 3


_ONE_BYTE = [bytes((i,)) for i in range(128)]


def varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative int."""
    if value < 128:
        return _ONE_BYTE[value]
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def frame(field: int, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, payload."""
    tag = (field << 3) | 2
    if tag < 128 and len(payload) < 128:  # nonces, names, versions: two header bytes
        return bytes((tag, len(payload))) + payload
    return varint(tag) + varint(len(payload)) + payload


def frame_str(field: int, text: str) -> bytes:
    """A string field; empty strings are omitted, as proto3 does."""
    return frame(field, text.encode()) if text else b""


_SHARED: dict[tuple[int, str], bytes] = {}


def shared_frame_str(field: int, text: str) -> bytes:
    """:func:`frame_str` of a value every stream repeats (a type URL, a set version), memoized.

    The memo is dropped when it grows past 4096 entries (versions of past generations)."""
    key = (field, text)
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= 4096:
            _SHARED.clear()
        found = _SHARED[key] = frame_str(field, text)
    return found


def short_hash(data: bytes) -> str:
    """A stable 16-hex-digit content version of some bytes."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class Encoded:
    """One resource: name, content version and its serialized ``Any``; frames are built lazily."""

    __slots__ = ("_delta", "_sotw", "any_bytes", "name", "version")

    def __init__(self, name: str, version: str, any_bytes: bytes) -> None:
        self.name = name
        self.version = version
        self.any_bytes = any_bytes
        self._sotw: bytes | None = None
        self._delta: bytes | None = None

    @property
    def sotw_frame(self) -> bytes:
        """``DiscoveryResponse.resources`` entry."""
        if self._sotw is None:
            self._sotw = frame(_SOTW_RESOURCES, self.any_bytes)
        return self._sotw

    @property
    def delta_frame(self) -> bytes:
        """``DeltaDiscoveryResponse.resources`` entry (an envoy ``Resource``)."""
        if self._delta is None:
            body = (
                frame_str(_RES_VERSION, self.version)
                + frame(_RES_ANY, self.any_bytes)
                + frame_str(_RES_NAME, self.name)
            )
            self._delta = frame(_DELTA_RESOURCES, body)
        return self._delta

    def __repr__(self) -> str:
        return f"Encoded({self.name!r}, {self.version!r}, {len(self.any_bytes)} bytes)"


def sotw_response(version: str, type_url: str, nonce: str, resources: Iterable[Encoded]) -> bytes:
    """A serialized ``DiscoveryResponse``."""
    head = shared_frame_str(_SOTW_VERSION, version)
    tail = shared_frame_str(_SOTW_TYPE_URL, type_url)
    return b"".join([head, *(r.sotw_frame for r in resources), tail, frame_str(_SOTW_NONCE, nonce)])


def delta_response(
    system_version: str,
    type_url: str,
    nonce: str,
    resources: Iterable[Encoded],
    removed: Iterable[str],
) -> bytes:
    """A serialized ``DeltaDiscoveryResponse``."""
    head = shared_frame_str(_DELTA_SYSTEM_VERSION, system_version)
    tail = shared_frame_str(_DELTA_TYPE_URL, type_url)
    gone = [frame_str(_DELTA_REMOVED, name) for name in removed]
    return b"".join(
        [
            head,
            *(r.delta_frame for r in resources),
            tail,
            *gone,
            frame(_DELTA_NONCE, nonce.encode()),
        ]
    )


# -- reading SotW ACKs without decoding their resource names --------------------------------------
# An Envoy or gRPC client ACKs every response with its whole subscription: 10,000 EDS names are
# ~400 KB to decode into Python strings and a set (~1.5 ms) for each ACK of each stream. Clients
# serialize fields in field-number order, so an ACK is ``[1 version][2 node][3 name]...[4 type]
# [5 nonce]`` (version and node optional) and, when the names are those of the last applied
# request, its middle is byte-identical to that request's. We keep the middle ("names block") and
# recognise later ACKs by comparing bytes. Anything else takes the ordinary decoding path.
_REQ_TYPE_URL, _REQ_NONCE = 4, 5


def _read_varint(raw: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it); raises IndexError past the end, ValueError if too long."""
    value = shift = 0
    while True:
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _after_head(raw: bytes) -> int:
    """The position after an optional version_info (1) and an optional node (2) field."""
    pos = 0
    for tag in (0x0A, 0x12):
        if pos < len(raw) and raw[pos] == tag:
            length, pos = _read_varint(raw, pos + 1)
            pos += length
    if pos > len(raw):
        raise IndexError("field runs past the end")
    return pos


def names_block(raw: bytes, type_url: str, nonce: str) -> bytes:
    """The bytes between the head (version, node) and the type URL of a request already decoded
    to ``type_url`` and ``nonce`` and found to carry no error_detail; empty when ``raw`` is not
    laid out as ``[1][2][3...][4][5]``."""
    tail = frame_str(_REQ_TYPE_URL, type_url) + frame_str(_REQ_NONCE, nonce)
    try:
        start = _after_head(raw)
    except (IndexError, ValueError):
        return b""
    if start + len(tail) > len(raw) or not raw.endswith(tail):
        return b""
    return raw[start : len(raw) - len(tail)]


def match_ack(raw: bytes, type_url: str, block: bytes) -> str | None:
    """The nonce of ``raw`` when it is a head (version, node) + ``block`` + ``[4 type_url]
    [5 nonce]`` exactly (the names are those of ``block``); None otherwise."""
    try:
        pos = _after_head(raw)
        if not raw.startswith(block, pos):
            return None
        pos += len(block)
        url = frame_str(_REQ_TYPE_URL, type_url)
        if not raw.startswith(url, pos):
            return None
        pos += len(url)
        if pos == len(raw):
            return ""
        if raw[pos] != 0x2A:  # response_nonce
            return None
        length, pos = _read_varint(raw, pos + 1)
        if pos + length != len(raw):
            return None
        return raw[pos:].decode()
    except (IndexError, ValueError):  # UnicodeDecodeError is a ValueError
        return None
