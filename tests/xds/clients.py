"""Real grpc.aio xDS clients shaped like the peers we serve (istiod's MCP client, Delta clients),
plus a fixture-style context manager that runs an XdsServer on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import grpc
from envoy.service.discovery.v3 import discovery_pb2

from dubbomesh.aio.latest import LatestValue
from dubbomesh.mesh.intent import MeshIntent
from dubbomesh.xds.server import XdsServer
from dubbomesh.xds.settings import XdsSettings

SOTW = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
DELTA = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"

PILOT_TYPES_124 = [
    "networking.istio.io/v1/DestinationRule",
    "networking.istio.io/v1alpha3/EnvoyFilter",
    "networking.istio.io/v1/Gateway",
    "networking.istio.io/v1/ServiceEntry",
    "networking.istio.io/v1/Sidecar",
    "networking.istio.io/v1/VirtualService",
    "networking.istio.io/v1/WorkloadEntry",
    "networking.istio.io/v1/WorkloadGroup",
    "networking.istio.io/v1beta1/ProxyConfig",
    "security.istio.io/v1/AuthorizationPolicy",
    "security.istio.io/v1/PeerAuthentication",
    "security.istio.io/v1/RequestAuthentication",
    "telemetry.istio.io/v1/Telemetry",
    "extensions.istio.io/v1alpha1/WasmPlugin",
]
PILOT_TYPES_123 = [
    "networking.istio.io/v1alpha3/DestinationRule",
    "networking.istio.io/v1alpha3/EnvoyFilter",
    "networking.istio.io/v1alpha3/Gateway",
    "networking.istio.io/v1alpha3/ServiceEntry",
    "networking.istio.io/v1alpha3/Sidecar",
    "networking.istio.io/v1alpha3/VirtualService",
    "networking.istio.io/v1alpha3/WorkloadEntry",
    "networking.istio.io/v1alpha3/WorkloadGroup",
    "networking.istio.io/v1beta1/ProxyConfig",
    "security.istio.io/v1beta1/AuthorizationPolicy",
    "security.istio.io/v1beta1/PeerAuthentication",
    "security.istio.io/v1beta1/RequestAuthentication",
    "telemetry.istio.io/v1alpha1/Telemetry",
    "extensions.istio.io/v1alpha1/WasmPlugin",
]
MESH_CONFIG = "core/v1alpha1/MeshConfig"
DEADLINE = 20.0


@dataclass
class Running:
    server: XdsServer
    intents: LatestValue[MeshIntent]
    address: str
    uds: str = ""
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    def channel(self, target: str | None = None) -> grpc.aio.Channel:
        ch = grpc.aio.insecure_channel(target or self.address)
        self.channels.append(ch)
        return ch


@asynccontextmanager
async def running_server(
    settings: XdsSettings | None = None, first: MeshIntent | None = None
) -> AsyncIterator[Running]:
    """An XdsServer on 127.0.0.1:<free port>, following a LatestValue the test controls."""
    settings = settings or XdsSettings(listen=("127.0.0.1:0",))
    intents: LatestValue[MeshIntent] = LatestValue()
    server = XdsServer(settings)
    async with anyio.create_task_group() as tg:
        addresses = await tg.start(server.serve, intents)
        tcp = [a for a in addresses if not a.startswith("unix:")]
        run = Running(server, intents, tcp[0] if tcp else "", settings.uds)
        if first is not None:
            intents.set(first)
        try:
            yield run
        finally:
            for ch in run.channels:
                await ch.close()
            tg.cancel_scope.cancel()


async def poll(predicate: object, what: str, deadline: float = DEADLINE) -> None:
    """Wait (polling, bounded) until ``predicate()`` is true."""
    assert callable(predicate)
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class SotwClient:
    """A raw SotW ADS client: send requests, receive parsed responses with a deadline."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._queue: asyncio.Queue[discovery_pb2.DiscoveryRequest] = asyncio.Queue()
        method = channel.stream_stream(
            SOTW,
            request_serializer=discovery_pb2.DiscoveryRequest.SerializeToString,
            response_deserializer=discovery_pb2.DiscoveryResponse.FromString,
        )
        self.call = method(self._requests())

    async def _requests(self) -> AsyncIterator[discovery_pb2.DiscoveryRequest]:
        while True:
            yield await self._queue.get()

    def send(self, req: discovery_pb2.DiscoveryRequest) -> None:
        self._queue.put_nowait(req)

    async def recv(self, deadline: float = DEADLINE) -> discovery_pb2.DiscoveryResponse:
        msg = await asyncio.wait_for(self.call.read(), deadline)
        assert msg is not grpc.aio.EOF, "stream ended"
        assert isinstance(msg, discovery_pb2.DiscoveryResponse)
        return msg

    def ack(self, resp: discovery_pb2.DiscoveryResponse, names: list[str] | None = None) -> None:
        self.send(
            discovery_pb2.DiscoveryRequest(
                type_url=resp.type_url,
                version_info=resp.version_info,
                response_nonce=resp.nonce,
                resource_names=names or [],
            )
        )


class DeltaClient:
    """A raw Delta ADS client."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._queue: asyncio.Queue[discovery_pb2.DeltaDiscoveryRequest] = asyncio.Queue()
        method = channel.stream_stream(
            DELTA,
            request_serializer=discovery_pb2.DeltaDiscoveryRequest.SerializeToString,
            response_deserializer=discovery_pb2.DeltaDiscoveryResponse.FromString,
        )
        self.call = method(self._requests())

    async def _requests(self) -> AsyncIterator[discovery_pb2.DeltaDiscoveryRequest]:
        while True:
            yield await self._queue.get()

    def send(self, req: discovery_pb2.DeltaDiscoveryRequest) -> None:
        self._queue.put_nowait(req)

    async def recv(self, deadline: float = DEADLINE) -> discovery_pb2.DeltaDiscoveryResponse:
        msg = await asyncio.wait_for(self.call.read(), deadline)
        assert msg is not grpc.aio.EOF, "stream ended"
        assert isinstance(msg, discovery_pb2.DeltaDiscoveryResponse)
        return msg

    def ack(self, resp: discovery_pb2.DeltaDiscoveryResponse) -> None:
        self.send(
            discovery_pb2.DeltaDiscoveryRequest(type_url=resp.type_url, response_nonce=resp.nonce)
        )
