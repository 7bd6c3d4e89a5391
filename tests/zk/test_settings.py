"""Registry settings validate early and never reveal the digest secret."""

from __future__ import annotations

import pytest

from dubbomesh.zk.errors import ZkConfigError
from dubbomesh.zk.settings import RegistrySettings


def test_secret_is_not_in_repr() -> None:
    s = RegistrySettings(auth_digest="alice:s3cret")
    assert "s3cret" not in repr(s)
    assert "s3cret" not in str(s)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": ""},
        {"hosts": ""},
        {"roots": ()},
        {"roots": ("dubbo",)},
        {"roots": ("/",)},
        {"roots": ("/dubbo/",)},
        {"services_root": "services"},
        {"auth_digest": "nocolon"},
        {"max_in_flight": 0},
        {"resync_jitter": 1.0},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ZkConfigError):
        RegistrySettings(**kwargs)  # type: ignore[arg-type]
