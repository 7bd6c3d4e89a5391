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


def varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative int."""
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
    return varint((field << 3) | 2) + varint(len(payload)) + payload


def frame_str(field: int, text: str) -> bytes:
    """A string field; empty strings are omitted, as proto3 does."""
    return frame(field, text.encode()) if text else b""


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
    head = frame_str(_SOTW_VERSION, version)
    tail = frame_str(_SOTW_TYPE_URL, type_url) + frame_str(_SOTW_NONCE, nonce)
    return b"".join([head, *(r.sotw_frame for r in resources), tail])


def delta_response(
    system_version: str,
    type_url: str,
    nonce: str,
    resources: Iterable[Encoded],
    removed: Iterable[str],
) -> bytes:
    """A serialized ``DeltaDiscoveryResponse``."""
    head = frame_str(_DELTA_SYSTEM_VERSION, system_version)
    gone = b"".join(frame_str(_DELTA_REMOVED, name) for name in removed)
    tail = frame_str(_DELTA_TYPE_URL, type_url) + frame_str(_DELTA_NONCE, nonce)
    return b"".join([head, *(r.delta_frame for r in resources), tail, gone])
