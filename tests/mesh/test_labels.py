"""Label policy: allowlisted, valid, never volatile, never under a reserved prefix."""

from __future__ import annotations

import pytest

from dubbomesh.mesh.labels import (
    endpoint_labels,
    is_label_key,
    is_label_value,
    is_reserved_key,
    ownership_labels,
)
from dubbomesh.mesh.settings import DEFAULT_LABEL_PARAMS
from tests.mesh.factories import ep


def test_allowlisted_params_become_labels() -> None:
    e = ep("a.B", "10.0.0.1", version="1.0", params=(("dubbo.tag", "gray"), ("methods", "x,y")))
    labels, refused = endpoint_labels(e, DEFAULT_LABEL_PARAMS)
    assert dict(labels) == {"app": "app1", "dubbo.apache.org/tag": "gray"}
    assert refused == 0


@pytest.mark.parametrize(
    ("allow", "params"),
    [
        ({"timestamp": "ts"}, (("timestamp", "1700000000000"),)),
        ({"pid": "pid"}, (("pid", "42"),)),
        ({"rev": "istio.io/rev"}, (("rev", "canary"),)),
        ({"m": "app.kubernetes.io/managed-by"}, (("m", "someone"),)),
        ({"z": "topology.kubernetes.io/zone"}, (("z", "z1"),)),
        ({"x": "node.k8s.io/x"}, (("x", "1"),)),
        ({"r": "dubbomesh.io/registry"}, (("r", "forged"),)),
        ({"t": "tag"}, (("t", "has space"),)),
        ({"t": "tag"}, (("t", "x" * 64),)),
        ({"t": "bad key!"}, (("t", "v"),)),
    ],
)
def test_refused(allow: dict[str, str], params: tuple[tuple[str, str], ...]) -> None:
    labels, refused = endpoint_labels(ep("a.B", "10.0.0.1", params=params), allow)
    assert labels == ()
    assert refused == 1


@pytest.mark.parametrize(
    ("key", "ok"),
    [("app", True), ("a.b/c", True), ("-a", False), ("A/b", False), ("a/" + "b" * 64, False)],
)
def test_label_keys(key: str, ok: bool) -> None:
    assert is_label_key(key) is ok


def test_values_and_reserved() -> None:
    assert is_label_value("")
    assert not is_label_value("a/b")
    assert is_reserved_key("sidecar.istio.io/inject")
    assert not is_reserved_key("dubbo.apache.org/group")


def test_ownership_labels() -> None:
    assert dict(ownership_labels("zk-prod")) == {
        "app.kubernetes.io/managed-by": "dubbomesh",
        "dubbomesh.io/registry": "zk-prod",
    }
    assert is_label_value(dict(ownership_labels("zk prod/1"))["dubbomesh.io/registry"])
