"""A real grpcio client dialling xds:///<host>:<port> through our server reaches the providers."""

from __future__ import annotations

import anyio
import pytest

from tests.xds.clients import running_server
from tests.xds.grpc_support import start_echo, xds_client
from tests.xds.helpers import intent, service_entry

pytestmark = pytest.mark.anyio


async def test_grpc_client_follows_a_provider_that_moves() -> None:
    a, port_a = start_echo("provider-a")
    b, port_b = start_echo("provider-b")
    try:
        first = intent(service_entry("greeter", [("127.0.0.1", port_a)], port=50051))
        async with running_server(first=first) as run:
            with xds_client(run.address, "xds:///greeter.dubbo.mesh:50051") as client:
                await anyio.to_thread.run_sync(
                    client.wait_for, lambda ls: "ok provider-a" in ls, "a call to provider-a"
                )
                view = run.server.debug_view()
                assert view["nacks_total"] == 0
                streams = view["streams"]
                assert isinstance(streams, list)
                assert {t.rsplit(".", 1)[-1] for t in streams[0]["types"]} == {
                    "Listener",
                    "RouteConfiguration",
                    "Cluster",
                    "ClusterLoadAssignment",
                }
                run.intents.set(
                    intent(service_entry("greeter", [("127.0.0.1", port_b)], port=50051))
                )
                a.stop(None)
                seen = len(client.lines)
                await anyio.to_thread.run_sync(
                    client.wait_for,
                    lambda ls: ls[-3:] == ["ok provider-b"] * 3 and len(ls) > seen,
                    "calls to reach provider-b",
                )
                assert run.server.debug_view()["nacks_total"] == 0
    finally:
        a.stop(None)
        b.stop(None)
