"""Settings reject values the API server or the election would choke on."""

from __future__ import annotations

import pytest

from dubbomesh.k8s.settings import K8sSettings, default_namespace


def test_defaults_are_valid() -> None:
    s = K8sSettings(namespace="dubbomesh")
    assert s.field_manager == "dubbomesh"
    assert s.api_version == "v1"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"namespace": "Bad_NS"},
        {"registry_name": "has space"},
        {"api_version": "v2"},
        {"qps": 0},
        {"retry_period": 20.0},
        {"grace_period": -1},
    ],
)
def test_invalid(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        K8sSettings(**{"namespace": "ns", **kwargs})  # type: ignore[arg-type]


def test_namespace_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "from-env")
    assert default_namespace() == "from-env"
