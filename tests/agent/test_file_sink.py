"""The file sink: one manifest per object, atomic, unchanged files untouched, vanished ones removed
only from complete and fresh intents, foreign files never touched."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from dubbomesh.agent.filesink import HEADER, FileSink
from dubbomesh.mesh.render import render
from dubbomesh.mesh.settings import MeshSettings
from tests.mesh.factories import catalog, ep

SETTINGS = MeshSettings(namespace="demo")


def test_writes_removes_and_leaves_foreign_files(tmp_path: Path) -> None:
    sink = FileSink(str(tmp_path))
    foreign = tmp_path / "mine.yaml"
    foreign.write_text("kind: ConfigMap\n")
    both = render(catalog(ep("com.a.Greeter", "10.0.0.1", proto="tri"),
                          ep("com.b.Greeter", "10.0.0.2", proto="tri")), SETTINGS)  # fmt: skip
    writes, deletes = sink.apply(both)
    assert (writes, deletes) == (len(both), 0)
    files = sorted(p.name for p in tmp_path.glob("serviceentry-*.yaml"))
    assert len(files) == len(both)
    doc = yaml.safe_load((tmp_path / files[0]).read_text())
    assert doc["kind"] == "ServiceEntry"
    assert doc["metadata"]["namespace"] == "demo"
    assert (tmp_path / files[0]).read_text().startswith(HEADER)

    # The same intent again writes nothing.
    assert sink.apply(both) == (0, 0)

    one = render(catalog(ep("com.a.Greeter", "10.0.0.1", proto="tri")), SETTINGS)
    # A stale (last-known-good) intent never removes anything...
    assert sink.apply(replace(one, stale=True))[1] == 0
    # ...nor does an incomplete one; a complete fresh one does.
    assert sink.apply(replace(one, complete=False))[1] == 0
    assert sink.apply(one) == (0, len(both) - len(one))  # com.b's entries, nothing else
    assert len(list(tmp_path.glob("serviceentry-*.yaml"))) == len(one)
    assert foreign.read_text() == "kind: ConfigMap\n"
    assert not list(tmp_path.glob(".*")), "no temporary files left behind"
