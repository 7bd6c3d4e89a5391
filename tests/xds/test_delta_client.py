"""A Delta client subscribed to named resources receives only their changes and removals."""

from __future__ import annotations

import pytest
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.service.discovery.v3 import discovery_pb2

from dubbomesh.xds.types import CLUSTER, ENDPOINT
from tests.xds.clients import DeltaClient, running_server
from tests.xds.helpers import intent, many, service_entry

pytestmark = pytest.mark.anyio

A = "outbound|50051||svc1.dubbo.mesh"
B = "outbound|50051||svc2.dubbo.mesh"


def cla(resource: discovery_pb2.Resource) -> endpoint_pb2.ClusterLoadAssignment:
    out = endpoint_pb2.ClusterLoadAssignment()
    assert resource.resource.Unpack(out)
    return out


async def test_named_delta_subscription_gets_only_its_changes_and_removals() -> None:
    objs = many(5)
    async with running_server(first=intent(*objs)) as run:
        client = DeltaClient(run.channel())
        client.send(
            discovery_pb2.DeltaDiscoveryRequest(type_url=ENDPOINT, resource_names_subscribe=[A])
        )
        resp = await client.recv()
        assert [r.name for r in resp.resources] == [A]
        assert resp.resources[0].version
        assert list(resp.removed_resources) == []
        client.ack(resp)

        # Subscribe to one more: only the new one is sent.
        client.send(
            discovery_pb2.DeltaDiscoveryRequest(type_url=ENDPOINT, resource_names_subscribe=[B])
        )
        resp = await client.recv()
        assert [r.name for r in resp.resources] == [B]
        client.ack(resp)

        # A change to an unsubscribed service sends nothing; the next message is about svc1.
        changed = list(objs)
        changed[3] = service_entry("svc3", [("10.9.9.3", 20880)])
        run.intents.set(intent(*changed))
        changed[1] = service_entry("svc1", [("10.9.9.1", 20880)])
        run.intents.set(intent(*changed))
        resp = await client.recv()
        assert [r.name for r in resp.resources] == [A]
        addr = cla(resp.resources[0]).endpoints[0].lb_endpoints[0].endpoint.address
        assert addr.socket_address.address == "10.9.9.1"
        client.ack(resp)

        # svc2 disappears: removed_resources names it, nothing else.
        del changed[2]
        run.intents.set(intent(*changed))
        resp = await client.recv()
        assert list(resp.resources) == []
        assert list(resp.removed_resources) == [B]
        client.ack(resp)

        # Unsubscribe svc1: its later changes are not sent; a wildcard CDS delta sees all.
        client.send(
            discovery_pb2.DeltaDiscoveryRequest(type_url=ENDPOINT, resource_names_unsubscribe=[A])
        )
        client.send(discovery_pb2.DeltaDiscoveryRequest(type_url=CLUSTER))
        resp = await client.recv()
        assert resp.type_url == CLUSTER
        assert len(resp.resources) == 4
        client.ack(resp)
        changed[1] = service_entry("svc1", [("10.9.9.7", 20880)])
        changed.append(service_entry("svc9", [("10.9.9.9", 20880)]))
        run.intents.set(intent(*changed))
        resp = await client.recv()
        assert resp.type_url == CLUSTER
        assert [r.name for r in resp.resources] == ["outbound|50051||svc9.dubbo.mesh"]
        assert run.server.debug_view()["nacks_total"] == 0


async def test_reconnecting_delta_client_gets_only_what_differs() -> None:
    objs = many(3)
    async with running_server(first=intent(*objs)) as run:
        client = DeltaClient(run.channel())
        client.send(discovery_pb2.DeltaDiscoveryRequest(type_url=ENDPOINT))
        resp = await client.recv()
        have = {r.name: r.version for r in resp.resources}
        assert len(have) == 3
        client.call.cancel()

        have["outbound|50051||gone.dubbo.mesh"] = "old"
        have[A] = "outdated"
        again = DeltaClient(run.channel())
        again.send(
            discovery_pb2.DeltaDiscoveryRequest(type_url=ENDPOINT, initial_resource_versions=have)
        )
        resp = await again.recv()
        assert [r.name for r in resp.resources] == [A]
        assert list(resp.removed_resources) == ["outbound|50051||gone.dubbo.mesh"]
