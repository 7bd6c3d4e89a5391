"""Real Apache Dubbo providers register in a real ZooKeeper; the agent's catalog must match them.

The ground truth is each provider's own configuration (ports, protocol, group, version, weight),
cross-checked against the raw znodes the providers wrote (decoded here independently of our
decoder). Covers Dubbo 3.3 (dubbo + tri IDL, interface- AND application-level registration, and an
instance-only provider with remote metadata) and Dubbo 2.7, including a provider killed with
SIGKILL (its ephemeral nodes go with its session) and restarted on the same ports.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from kazoo.client import KazooClient

from dubbomesh.agent.localzk import LocalZooKeeper
from tests.conformance.conftest import P33_ARGS, require_peer
from tests.conformance.peers import (
    Agent,
    DubboProvider,
    dubbo27_provider,
    dubbo33_provider,
    endpoint_set,
    wait_for_catalog,
    wait_until,
)

ECHO = "org.dubbomesh.peer.EchoService"
GREETER = "org.dubbomesh.peer.greeter.Greeter"
ECHO33 = f"g1/{ECHO}:1.0.0"
GREETER33 = f"gt/{GREETER}:2.0.0"
ECHO27 = f"g27/{ECHO}:2.7.0"
INSTANCE_ONLY = f"gi/{ECHO}:3.0.0"
LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="module")
def providers(czk: LocalZooKeeper) -> Iterator[dict[str, DubboProvider]]:
    require_peer("dubbo33")
    require_peer("dubbo27")
    started: dict[str, DubboProvider] = {}
    try:
        started["a33"] = dubbo33_provider(czk.connect_string, "dm-peer-33", **P33_ARGS).start()
        started["b33"] = dubbo33_provider(czk.connect_string, "dm-peer-33", **P33_ARGS).start()
        started["p27"] = dubbo27_provider(
            czk.connect_string, "dm-peer-27", group="g27", version="2.7.0", weight="50"
        ).start()
        yield started
    finally:
        for provider in started.values():
            provider.stop()


@pytest.fixture(scope="module")
def agent(czk: LocalZooKeeper, providers: dict[str, DubboProvider]) -> Iterator[Agent]:
    running = Agent(czk.connect_string).start()
    yield running
    running.stop()


def expected(providers: dict[str, DubboProvider]) -> dict[str, set[tuple[str, str, int, int]]]:
    a, b, p27 = providers["a33"], providers["b33"], providers["p27"]
    return {
        ECHO33: {("dubbo", LOOPBACK, p.ports["dubbo"], 150) for p in (a, b)},
        GREETER33: {("tri", LOOPBACK, p.ports["tri"], 80) for p in (a, b)},
        ECHO27: {("dubbo", LOOPBACK, p27.ports["dubbo"], 50)},
    }


def registered(zk: KazooClient) -> dict[str, set[tuple[str, str, int, int]]]:
    """What the providers wrote, decoded here with the standard library only."""
    out: dict[str, set[tuple[str, str, int, int]]] = {}
    for directory in zk.get_children("/dubbo"):
        path = f"/dubbo/{directory}/providers"
        if not zk.exists(path):
            continue
        for child in zk.get_children(path):
            url = urllib.parse.urlsplit(urllib.parse.unquote(child))
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            key = params["interface"]
            if params.get("group"):
                key = f"{params['group']}/{key}"
            if params.get("version"):
                key = f"{key}:{params['version']}"
            entry = (url.scheme, url.hostname or "", url.port or 0, int(params.get("weight", 100)))
            out.setdefault(key, set()).add(entry)
    return out


def catalog_matches(want: dict[str, set[tuple[str, str, int, int]]]) -> Any:
    def check(catalog: dict[str, Any]) -> bool:
        for key, endpoints in want.items():
            service = catalog.get(key)
            if service is None or endpoint_set(service) != endpoints:
                return False
            # One endpoint per (protocol, address, port): app-level duplicates must be merged.
            if len(service["endpoints"]) != len(endpoints):
                return False
        return True

    return check


@pytest.fixture
def zk_client(czk: LocalZooKeeper) -> Iterator[KazooClient]:
    client = KazooClient(hosts=czk.connect_string)
    client.start(timeout=30)
    yield client
    client.stop()
    client.close()


def test_providers_register_what_they_were_configured_with(
    providers: dict[str, DubboProvider], zk_client: KazooClient
) -> None:
    want = expected(providers)
    wait_until(lambda: all(registered(zk_client).get(k) == v for k, v in want.items()), 30,
               "the providers' interface-level nodes")  # fmt: skip


def test_dubbo33_registers_application_level_too(
    providers: dict[str, DubboProvider], zk_client: KazooClient
) -> None:
    a = providers["a33"]
    instance = f"/services/dm-peer-33/{LOOPBACK}:{a.ports['dubbo']}"
    data = wait_until(lambda: zk_client.exists(instance) and zk_client.get(instance)[0], 30,
                      f"Dubbo 3.3 application-level node {instance}")  # fmt: skip
    payload = json.loads(data)
    endpoints = json.loads(payload["payload"]["metadata"]["dubbo.endpoints"])
    assert {(e["protocol"], e["port"]) for e in endpoints} == {
        ("dubbo", a.ports["dubbo"]),
        ("tri", a.ports["tri"]),
    }
    mapping = zk_client.get(f"/dubbo/mapping/{GREETER}")[0].decode()
    assert "dm-peer-33" in mapping.split(",")


def test_agent_catalog_matches_every_provider(
    providers: dict[str, DubboProvider], agent: Agent
) -> None:
    want = expected(providers)
    catalog = wait_for_catalog(agent, catalog_matches(want), "the agent's catalog to match")
    for key in want:
        service = catalog[key]
        interface = key.split("/", 1)[-1].split(":", 1)[0]
        assert service["interface"] == interface
        assert (service["group"], service["version"]) == (key.split("/")[0], key.rsplit(":")[1])
        for endpoint in service["endpoints"]:
            want_app = "dm-peer-27" if key == ECHO27 else "dm-peer-33"
            assert endpoint["application"] == want_app


def test_tri_service_path_differs_from_interface(providers: dict[str, DubboProvider],
                                                  zk_client: KazooClient) -> None:  # fmt: skip
    """Dubbo 3.3 registers a protobuf service under its IDL name as the URL path (what a gRPC
    client dials) while the directory and ``interface`` param are the Java interface."""
    children = zk_client.get_children(f"/dubbo/{GREETER}/providers")
    paths = {urllib.parse.urlsplit(urllib.parse.unquote(c)).path for c in children}
    assert paths == {"/dubbomesh.peer.Greeter"}


def test_instance_only_provider_with_remote_metadata(
    czk: LocalZooKeeper, agent: Agent, providers: dict[str, DubboProvider]
) -> None:
    """register-mode=instance: nothing under /dubbo/<iface>/providers; the agent must find the
    services through /services, the interface->app mapping and the remote metadata."""
    provider = dubbo33_provider(
        czk.connect_string,
        "dm-peer-33-instance",
        **{"echo-group": "gi", "echo-version": "3.0.0", "echo-weight": "120",
           "greeter-group": "gi", "greeter-version": "3.0.0",
           "register-mode": "instance", "metadata-type": "remote"},
    )  # fmt: skip
    provider.start()
    try:
        want = {INSTANCE_ONLY: {("dubbo", LOOPBACK, provider.ports["dubbo"], 120)}}
        wait_for_catalog(agent, catalog_matches(want), "the instance-only provider in the catalog")
    finally:
        provider.stop()
    wait_for_catalog(agent, lambda c: INSTANCE_ONLY not in c, "the instance-only service to go")


@pytest.mark.parametrize("which", ["p27", "b33"])
def test_killed_provider_goes_and_comes_back(
    which: str, providers: dict[str, DubboProvider], agent: Agent, czk: LocalZooKeeper
) -> None:
    """SIGKILL: no unregistration, the ephemeral nodes go when ZooKeeper expires the session.
    A restart on the same ports must bring back the same endpoints."""
    want = expected(providers)
    wait_for_catalog(agent, catalog_matches(want), "the full catalog before the kill")
    victim = providers[which]
    victim.kill()
    gone = {key: {e for e in eps if e[2] not in victim.ports.values()} for key, eps in want.items()}
    gone = {key: eps for key, eps in gone.items() if eps}

    def without_victim(catalog: dict[str, Any]) -> bool:
        vanished = [k for k in want if k not in gone]
        return catalog_matches(gone)(catalog) and not any(k in catalog for k in vanished)

    wait_for_catalog(agent, without_victim, f"{which}'s endpoints to leave after SIGKILL")
    restarted = DubboProvider(victim.peer, czk.connect_string, victim.app, victim.args,
                              ports=victim.ports).start()  # fmt: skip
    providers[which] = restarted
    wait_for_catalog(agent, catalog_matches(want), f"{which}'s endpoints after the restart")


def test_registry_group_moves_both_layouts_under_one_root(czk: LocalZooKeeper) -> None:
    """A registry ``group`` (here ``grouped``) makes Dubbo 3.3 write interface-level nodes under
    ``/grouped/<iface>`` AND application-level instances under ``/grouped/<app>/<ip:port>`` (not
    /services). With both roots pointed there, the catalog must hold exactly the services, with
    no phantom service made of the app directory, mapping or metadata nodes."""
    require_peer("dubbo33")
    args = {**P33_ARGS, "root": "grouped", "echo-group": "gg", "greeter-group": "gg"}
    provider = dubbo33_provider(czk.connect_string, "dm-peer-grouped", **args).start()
    agent = Agent(czk.connect_string, root="/grouped", extra=["--services-root", "/grouped"])
    try:
        client = KazooClient(hosts=czk.connect_string)
        client.start(timeout=30)
        try:
            instance = f"/grouped/dm-peer-grouped/{LOOPBACK}:{provider.ports['dubbo']}"
            wait_until(lambda: client.exists(instance), 30, f"the instance node {instance}")
        finally:
            client.stop()
            client.close()
        agent.start()
        want = {
            f"gg/{ECHO}:1.0.0": {("dubbo", LOOPBACK, provider.ports["dubbo"], 150)},
            f"gg/{GREETER}:2.0.0": {("tri", LOOPBACK, provider.ports["tri"], 80)},
        }
        catalog = wait_for_catalog(agent, catalog_matches(want), "the grouped provider")
        assert set(catalog) == set(want), sorted(catalog)
    finally:
        agent.stop()
        provider.stop()
