"""An istiod-shaped MCP client (1.24+ and 1.23 type URLs) against the real grpc.aio server."""

from __future__ import annotations

import time

import pytest
from envoy.service.discovery.v3 import discovery_pb2

from dubbomesh.mesh.intent import MeshIntent
from tests.xds.clients import (
    MESH_CONFIG,
    PILOT_TYPES_123,
    PILOT_TYPES_124,
    SotwClient,
    poll,
    running_server,
)
from tests.xds.helpers import intent, service_entry, unpack_mcp

pytestmark = pytest.mark.anyio


def open_like_istiod(client: SotwClient, types: list[str]) -> None:
    """istiod: one wildcard request per Pilot type plus MeshConfig, made-up time-stamp nonces."""
    for type_url in [MESH_CONFIG, *types]:
        req = discovery_pb2.DiscoveryRequest(type_url=type_url, response_nonce=str(time.time_ns()))
        req.node.id = "sidecar~10.1.2.3~istiod-abc.istio-system~istio-system.svc.cluster.local"
        req.node.metadata.fields["GENERATOR"].string_value = "api"
        req.node.metadata.fields["ISTIO_VERSION"].string_value = "1.24.0"
        client.send(req)


def decode_entries(resp: discovery_pb2.DiscoveryResponse) -> dict[str, tuple[str, object]]:
    out = {}
    for any_msg in resp.resources:
        res, body = unpack_mcp(any_msg)
        out[res.metadata.name] = (res.metadata.version, body)
    return out


async def receive_all(
    client: SotwClient, types: list[str]
) -> dict[str, discovery_pb2.DiscoveryResponse]:
    """One response per requested type, ACKed like istiod does (version + nonce)."""
    got: dict[str, discovery_pb2.DiscoveryResponse] = {}
    while len(got) < len(types) + 1:
        resp = await client.recv()
        assert resp.type_url not in got, f"second response for {resp.type_url} before any change"
        got[resp.type_url] = resp
        client.ack(resp)
    return got


@pytest.mark.parametrize(
    ("types", "version"), [(PILOT_TYPES_124, "v1"), (PILOT_TYPES_123, "v1alpha3")]
)
async def test_istiod_stream_gets_every_type_and_full_sets(types: list[str], version: str) -> None:
    se_type = f"networking.istio.io/{version}/ServiceEntry"
    first = intent(
        service_entry("greeter", [("10.0.0.1", 50051)]),
        service_entry("billing", [("10.0.0.2", 20880)]),
    )
    async with running_server(first=first) as run:
        client = SotwClient(run.channel())
        open_like_istiod(client, types)
        got = await receive_all(client, types)

        # Every type answered, echoing exactly the requested URL; only ServiceEntry has content.
        assert set(got) == {MESH_CONFIG, *types}
        for type_url, resp in got.items():
            if type_url != se_type:
                assert list(resp.resources) == [], type_url
        entries = decode_entries(got[se_type])
        assert set(entries) == {"dubbo/greeter", "dubbo/billing"}
        obj = first.objects[next(k for k in first.objects if k[1] == "dubbo/greeter")]
        ver, body = entries["dubbo/greeter"]
        assert ver == obj.version
        assert list(body.hosts) == ["greeter.dubbo.mesh"]  # type: ignore[attr-defined]
        assert body.endpoints[0].address == "10.0.0.1"  # type: ignore[attr-defined]
        res, _ = unpack_mcp(got[se_type].resources[0])
        assert dict(res.metadata.labels) == {"app.kubernetes.io/managed-by": "dubbomesh"}
        assert res.body.type_url == "type.googleapis.com/istio.networking.v1alpha3.ServiceEntry"

        # A change: billing removed, greeter moved. One full-set push of ServiceEntry, and the ACKs
        # sent above caused nothing: the very next message is that push.
        second = intent(service_entry("greeter", [("10.0.0.9", 50051)]))
        run.intents.set(second)
        resp = await client.recv()
        assert resp.type_url == se_type
        entries = decode_entries(resp)
        assert set(entries) == {"dubbo/greeter"}, "billing must be deleted by omission"
        assert entries["dubbo/greeter"][1].endpoints[0].address == "10.0.0.9"  # type: ignore[attr-defined]
        assert int(resp.nonce) > int(got[se_type].nonce)
        client.ack(resp)

        # Same content again (a new intent object): no push. Then removal of everything: an empty
        # full set deletes all. The next message must be that empty set.
        run.intents.set(intent(service_entry("greeter", [("10.0.0.9", 50051)])))
        run.intents.set(MeshIntent.create([], catalog_version="c3"))
        resp = await client.recv()
        assert resp.type_url == se_type
        assert list(resp.resources) == []
        assert run.server.debug_view()["nacks_total"] == 0


async def test_nothing_is_answered_before_the_first_complete_intent() -> None:
    async with running_server() as run:
        client = SotwClient(run.channel())
        open_like_istiod(client, PILOT_TYPES_124)
        run.intents.set(intent(service_entry("early", [("10.0.0.1", 1)]), complete=False))

        def consumed() -> bool:
            view = run.server.debug_view()
            streams = view["streams"]
            assert isinstance(streams, list)
            return (
                view["intent_generation"] == 1
                and len(streams) == 1
                and len(streams[0]["types"]) == 15
            )

        await poll(consumed, "the server to read the requests and the incomplete intent")
        # Nothing was answered: the first message is built from the complete intent.
        run.intents.set(intent(service_entry("late", [("10.0.0.2", 2)])))
        got = await receive_all(client, PILOT_TYPES_124)
        entries = decode_entries(got["networking.istio.io/v1/ServiceEntry"])
        assert set(entries) == {"dubbo/late"}
