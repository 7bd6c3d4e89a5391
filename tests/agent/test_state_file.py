"""The last-known-good file: round trip, atomic replace, corrupt files are errors, not crashes."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest

from dubbomesh.agent import state
from dubbomesh.dubbo.model import Catalog, Endpoint, Service, ServiceId


def _catalog() -> Catalog:
    sid = ServiceId("org.apache.dubbo.demo.DemoService", "g1", "1.0.0")
    eps = [
        Endpoint(
            sid,
            "dubbo",
            "10.0.0.1",
            20880,
            100,
            "demo",
            "default",
            params=(("application", "demo"), ("side", "provider")),
        ),
        Endpoint(sid, "tri", "2001:db8::1", 50051, 50, "demo", "default"),
    ]
    return Catalog.create([Service.create(sid, eps)])


def test_round_trip_is_marked_stale(tmp_path: Path) -> None:
    path = str(tmp_path / "sub" / "state.msgpack")
    cat = _catalog()
    state.save(path, cat)
    loaded = state.load(path)
    assert loaded is not None
    assert loaded.catalog.version == cat.version
    assert loaded.catalog.stale
    assert loaded.catalog.complete
    assert list(loaded.catalog) == list(cat)


def test_missing_file_is_none(tmp_path: Path) -> None:
    assert state.load(str(tmp_path / "absent")) is None


def test_replace_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "state.msgpack"
    state.save(str(path), _catalog())
    state.save(str(path), Catalog.create([]))
    assert [p.name for p in tmp_path.iterdir()] == ["state.msgpack"]
    loaded = state.load(str(path))
    assert loaded is not None
    assert len(loaded.catalog) == 0


@pytest.mark.parametrize(
    ("blob", "needle"),
    [
        (b"\xc1garbage", "msgpack"),
        (msgpack.packb({"format": "other"}), "not a dubbomesh"),
        (msgpack.packb({"format": "dubbomesh/catalog", "v": 99}), "format version"),
        (msgpack.packb({"format": "dubbomesh/catalog", "v": 1, "services": [[1]]}), "malformed"),
    ],
)
def test_bad_files_raise_state_errors(tmp_path: Path, blob: bytes, needle: str) -> None:
    path = tmp_path / "state.msgpack"
    path.write_bytes(blob)
    with pytest.raises(state.StateFileError, match=needle):
        state.load(str(path))


def test_tampered_content_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "state.msgpack"
    state.save(str(path), _catalog())
    doc = msgpack.unpackb(path.read_bytes())
    doc["services"][0][3][0][2] = 1  # port changed behind the version's back
    path.write_bytes(msgpack.packb(doc))
    with pytest.raises(state.StateFileError, match="corrupt"):
        state.load(str(path))
