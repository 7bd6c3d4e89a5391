"""Fixtures for the conformance suite: a private real ZooKeeper per module, real peers, the agent.

Every test here is marked ``conformance``. A peer that is not built (or that the registries could
not provide, recorded as BLOCKED by scripts/build-peers.sh) makes its tests skip with that reason.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes.client import CoreV1Api, V1Namespace, V1ObjectMeta
from kubernetes.client.exceptions import ApiException

from dubbomesh.agent.localzk import LocalZooKeeper
from tests.conformance.istiod import Istiod, probe_standalone
from tests.conformance.peers import (
    Agent,
    DubboProvider,
    PeerUnavailable,
    build_info,
    dubbo27_provider,
    dubbo33_provider,
)
from tests.support.kube import BIN_DIR as KUBE_BIN


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


STANDALONE: dict[str, str] = {}
"""Per istiod peer: "" when it runs without Kubernetes, else why not (probed once a session)."""


def standalone_problem(peer: str, mesh: Mesh) -> str:
    if peer not in STANDALONE:
        STANDALONE[peer] = probe_standalone(peer, mesh.agent.xds_address)
    return STANDALONE[peer]


def kube_for_istiod(request: pytest.FixtureRequest) -> Path:
    """The real API server of the k8s tests (build-go-peers.sh), with istiod's namespaces."""
    if not (KUBE_BIN / "kube-apiserver").exists() and not os.environ.get(
        "DUBBOMESH_TEST_KUBECONFIG"
    ):
        pytest.skip(f"istiod needs a Kubernetes API server here; not built in {KUBE_BIN}")
    cluster = request.getfixturevalue("kube_apiserver")
    core = CoreV1Api(cluster.api)
    for name in ("istio-system", "dubbo"):
        with contextlib.suppress(ApiException):
            core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name)))
    return Path(cluster.admin_kubeconfig)


@pytest.fixture(scope="session", params=["istiod-current", "istiod-1.23"])
def istiod(request: pytest.FixtureRequest, mesh: Mesh) -> Iterator[Istiod]:
    """A real istiod per built release, reading config ONLY from the agent's xDS stream:
    standalone when that release can run without Kubernetes, else with the real API server of
    the k8s tests as its service registry (still no Kubernetes config source)."""
    require_peer(request.param)
    kubeconfig = None
    if standalone_problem(request.param, mesh):
        kubeconfig = kube_for_istiod(request)
    server = Istiod(request.param, mesh.agent.xds_address, kubeconfig=kubeconfig).start()
    yield server
    server.stop()
