"""Fixtures for the conformance suite: a private real ZooKeeper per module, real peers, the agent.

Every test here is marked ``conformance``. A peer that is not built (or that the registries could
not provide, recorded as BLOCKED by scripts/build-peers.sh) makes its tests skip with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dubbomesh.agent.localzk import LocalZooKeeper
from tests.conformance.peers import PeerUnavailable, build_info


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/conformance/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.conformance)


def require_peer(name: str) -> dict[str, str]:
    """The peer's build info, or skip the test with the reason it is unavailable."""
    try:
        return build_info(name)
    except PeerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def czk() -> Iterator[LocalZooKeeper]:
    """A real ZooKeeper owned by one conformance module (peers register here, nothing else)."""
    with LocalZooKeeper() as server:
        yield server
