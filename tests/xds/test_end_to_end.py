"""ZooKeeper -> agent -> xDS -> a real proxyless grpcio client, with a provider that moves.

A real gRPC server on loopback registers in the real ZooKeeper as a ``tri://`` provider; a grpcio
client dialling ``xds:///<host>:<port>`` (bootstrap pointing at the agent) makes calls. Then the
provider moves to another port (old znode deleted, new one created): calls keep succeeding without
restarting the client, within a bounded time polled for.
"""

from __future__ import annotations

import time

import anyio
import pytest
from kazoo.client import KazooClient

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.xds.types import ResourceType
from tests.support.zookeeper import register_provider, unregister
from tests.xds.grpc_support import start_echo, xds_client
from tests.xds.pipeline import agent_flags, running_agent

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

INTERFACE = "org.example.Greeter"


async def listener_for(agent: object, interface_hint: str, deadline: float = 30.0) -> str:
    """The Listener name (``host:port``) the agent publishes for the service, once it exists."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        snap = agent.xds.snapshot  # type: ignore[attr-defined]
        if snap is not None:
            names = [
                n
                for n in snap.get(ResourceType.LISTENER).resources
                if interface_hint in n and ".workload." not in n  # not a per-workload entry
            ]
            if names:
                return str(names[0])
        await anyio.sleep(0.02)
    raise AssertionError("the agent never published a listener for the service")


async def test_grpc_client_follows_a_tri_provider_that_moves_in_zookeeper(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    a, port_a = start_echo("provider-a")
    b, port_b = start_echo("provider-b")
    try:
        node_a = register_provider(
            zk, INTERFACE, "127.0.0.1", port_a, protocol="tri", application="greeter"
        )
        async with running_agent(agent_flags(zk_server.connect_string, "e2e")) as agent:
            listener = await listener_for(agent, "greeter")
            address = agent.xds.addresses[0]
            with xds_client(address, f"xds:///{listener}") as client:
                await anyio.to_thread.run_sync(
                    client.wait_for, lambda ls: "ok provider-a" in ls, "a call to provider-a"
                )
                register_provider(
                    zk, INTERFACE, "127.0.0.1", port_b, protocol="tri", application="greeter"
                )
                unregister(zk, node_a)
                a.stop(None)
                seen = len(client.lines)
                await anyio.to_thread.run_sync(
                    client.wait_for,
                    lambda ls: len(ls) > seen + 3 and ls[-3:] == ["ok provider-b"] * 3,
                    "calls to reach provider-b on its new port",
                )
            assert agent.xds.debug_view()["nacks_total"] == 0
    finally:
        a.stop(None)
        b.stop(None)
