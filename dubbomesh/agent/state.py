"""The last-known-good catalog file: serve something true after a restart without ZooKeeper.

Why this module exists: if the agent restarts while ZooKeeper is unreachable, serving nothing would
withdraw every endpoint from every proxy. Instead the agent loads the catalog it last saw complete,
marks it ``stale`` (so no sink derives deletions from it) and serves it until a fresh complete
listing replaces it.

Format: msgpack map ``{"format": "dubbomesh/catalog", "v": 1, "written": unix seconds,
"version": catalog version, "services": [[iface, group, version, [endpoint...]]...]}``, written to a
temporary file, fsynced, then atomically renamed over the old one. A file with another format or
version, or a corrupt one, is reported and ignored: never a crash.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from dubbomesh.dubbo.model import Catalog, Endpoint, Service, ServiceId, Source

log = logging.getLogger(__name__)

FORMAT = "dubbomesh/catalog"
FORMAT_VERSION = 1


class StateFileError(Exception):
    """The state file cannot be used; the message says why. The agent continues without it."""


@dataclass(frozen=True, slots=True)
class LoadedState:
    """A catalog read back from disk, with its age."""

    catalog: Catalog
    written_at: float


def _encode(catalog: Catalog) -> bytes:
    services = [
        [
            s.id.interface,
            s.id.group,
            s.id.version,
            [
                [
                    e.protocol,
                    e.address,
                    e.port,
                    e.weight,
                    e.application,
                    e.registry,
                    e.source.value,
                    [list(p) for p in e.params],
                ]
                for e in s.endpoints
            ],
        ]
        for s in catalog
    ]
    doc = {
        "format": FORMAT,
        "v": FORMAT_VERSION,
        "written": time.time(),
        "version": catalog.version,
        "services": services,
    }
    return msgpack.packb(doc, use_bin_type=True)  # type: ignore[no-any-return]


def _decode(blob: bytes) -> LoadedState:
    try:
        doc: Any = msgpack.unpackb(blob, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise StateFileError(f"not a msgpack document ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateFileError("not a dubbomesh catalog file")
    if doc.get("v") != FORMAT_VERSION:
        raise StateFileError(f"format version {doc.get('v')!r}, this agent reads {FORMAT_VERSION}")
    try:
        services = []
        for iface, group, version, eps in doc["services"]:
            sid = ServiceId(str(iface), str(group), str(version))
            endpoints = [
                Endpoint(
                    sid,
                    str(proto),
                    str(addr),
                    int(port),
                    int(weight),
                    str(app),
                    str(reg),
                    Source(src),
                    tuple((str(k), str(v)) for k, v in params),
                )
                for proto, addr, port, weight, app, reg, src, params in eps
            ]
            services.append(Service.create(sid, endpoints))
        written = float(doc["written"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError(f"malformed content ({exc})") from None
    catalog = Catalog.create(services, complete=True, stale=True)
    if catalog.version != doc.get("version"):
        raise StateFileError("content does not match its recorded version (corrupt file)")
    return LoadedState(catalog, written)


def save(path: str, catalog: Catalog) -> None:
    """Atomically replace ``path`` with ``catalog`` (fsync file and directory)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    blob = _encode(catalog)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load(path: str) -> LoadedState | None:
    """Read the state file; None when absent. Raises :class:`StateFileError` when unusable."""
    try:
        blob = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read {path}: {exc.strerror}") from None
    return _decode(blob)
