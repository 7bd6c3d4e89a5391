"""Fixtures for the conformance suite: a private real ZooKeeper per module, real peers, the agent.

Every test here is marked ``conformance``. A peer that is not built (or that the registries could
not provide, recorded as BLOCKED by scripts/build-peers.sh) makes its tests skip with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dubbomesh.agent.localzk import LocalZooKeeper
from tests.conformance.istiod import Istiod
from tests.conformance.peers import (
    Agent,
    DubboProvider,
    PeerUnavailable,
    build_info,
    dubbo27_provider,
    dubbo33_provider,
)


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


@dataclass
class Mesh:
    """One real ZooKeeper, real Dubbo providers and the agent, shared by the istiod-facing tests.

    Providers: ``a33`` (Dubbo 3.3: EchoService g1/1.0.0 weight 150 over dubbo, Greeter gt/2.0.0
    weight 80 over tri) and ``p27`` (Dubbo 2.7: EchoService g27/2.7.0 weight 50 over dubbo).
    """

    zk: LocalZooKeeper
    providers: dict[str, DubboProvider]
    agent: Agent


P33_ARGS = {
    "echo-group": "g1",
    "echo-version": "1.0.0",
    "echo-weight": "150",
    "greeter-group": "gt",
    "greeter-version": "2.0.0",
    "greeter-weight": "80",
}


@pytest.fixture(scope="session")
def mesh() -> Iterator[Mesh]:
    require_peer("dubbo33")
    require_peer("dubbo27")
    providers: dict[str, DubboProvider] = {}
    agent: Agent | None = None
    with LocalZooKeeper() as zk:
        try:
            providers["a33"] = dubbo33_provider(zk.connect_string, "dm-peer-33", **P33_ARGS)
            providers["a33"].start()
            providers["p27"] = dubbo27_provider(
                zk.connect_string, "dm-peer-27", group="g27", version="2.7.0", weight="50"
            ).start()
            agent = Agent(zk.connect_string).start()
            yield Mesh(zk, providers, agent)
        finally:
            if agent is not None:
                agent.stop()
            for provider in providers.values():
                provider.stop()


@pytest.fixture(scope="session", params=["istiod-current", "istiod-1.23"])
def istiod(request: pytest.FixtureRequest, mesh: Mesh) -> Iterator[Istiod]:
    """A real istiod per built release, reading config only from the agent's xDS stream."""
    require_peer(request.param)
    server = Istiod(request.param, mesh.agent.xds_address).start()
    yield server
    server.stop()
