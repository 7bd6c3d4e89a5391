"""The file sink: a directory of Kubernetes manifests kept exactly in step with the mesh intent.

Why this module exists: a GitOps pipeline, ``kubectl apply -f DIR --prune`` or a human can consume
plain files without giving the agent any API credentials. One file per object
(``<kind>-<name>.yaml``), each written atomically (temp file + rename) and only when its content
changed; files of objects that left the intent are removed, but only when the intent is complete
and fresh (never from a stale last-known-good view). Only files this sink wrote (marked by a header
line) are ever removed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import anyio
import yaml

from dubbomesh.aio.latest import LatestValue
from dubbomesh.mesh.intent import MeshIntent, MeshObject
from dubbomesh.mesh.manifests import to_manifest

log = logging.getLogger(__name__)

HEADER = "# managed by dubbomesh: do not edit, this file is rewritten\n"


def file_name(obj: MeshObject) -> str:
    """``serviceentry-<name>.yaml`` / ``workloadentry-<name>.yaml``."""
    return f"{obj.kind.value.lower()}-{obj.name}.yaml"


def render_yaml(obj: MeshObject) -> str:
    """The file content of one object (header + YAML manifest)."""
    manifest = to_manifest(obj)
    # Round-trip through JSON to get plain dicts/lists only (stable, safe_dump-able).
    plain = json.loads(json.dumps(manifest))
    return HEADER + yaml.safe_dump(plain, sort_keys=True, default_flow_style=False)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileSink:
    """Applies intents to a directory. Single owner: call :meth:`apply` from one task."""

    def __init__(self, directory: str) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.writes = 0
        self.deletes = 0

    def _ours(self) -> dict[str, Path]:
        out = {}
        for path in self.dir.glob("*.yaml"):
            try:
                with path.open(encoding="utf-8") as fh:
                    if fh.readline() == HEADER:
                        out[path.name] = path
            except OSError:
                continue
        return out

    def apply(self, intent: MeshIntent) -> tuple[int, int]:
        """Write changed files, remove vanished ones; returns (writes, deletes)."""
        existing = self._ours()
        wanted: dict[str, str] = {file_name(o): render_yaml(o) for o in intent.objects.values()}
        writes = deletes = 0
        for name, text in wanted.items():
            path = self.dir / name
            if name in existing:
                try:
                    if path.read_text(encoding="utf-8") == text:
                        continue
                except OSError:
                    pass
            _write_atomic(path, text)
            writes += 1
        if intent.complete and not intent.stale:
            for name, path in existing.items():
                if name not in wanted:
                    path.unlink(missing_ok=True)
                    deletes += 1
        self.writes += writes
        self.deletes += deletes
        if writes or deletes:
            log.info("file sink %s: %d written, %d removed", self.dir, writes, deletes)
        return writes, deletes


async def run_file_sink(intents: LatestValue[MeshIntent], directory: str) -> None:
    """Keep ``directory`` current with the newest intent until cancelled."""
    sink = FileSink(directory)
    seen = 0
    while True:
        try:
            seen, intent = await intents.wait_newer(seen)
        except anyio.EndOfStream:
            return
        await anyio.to_thread.run_sync(sink.apply, intent)
