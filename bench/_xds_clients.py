"""Client side of bench_xds, run in its own process so the server's event loop is measured alone.

Usage: python -m bench._xds_clients ADDRESS SERVICES STREAMS
Opens STREAMS ADS streams (even: Delta wildcard EDS+CDS; odd: SotW EDS for every name + CDS),
ACKs every response as it arrives (as Envoy does), prints READY. Then, for each stdin line
``CHECK <i>``, waits until every stream received a new message and prints ``RESULT 1`` when each
stream got exactly one response carrying exactly the ClusterLoadAssignment of service ``i`` (else
``RESULT 0``).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import grpc
from envoy.service.discovery.v3 import discovery_pb2

from dubbomesh.xds.types import CLUSTER, ENDPOINT

SOTW = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
DELTA = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"


def cla(i: int) -> str:
    return f"outbound|50051||svc{i}.bench.mesh"


class Stream:
    """One ADS stream that ACKs every response at once, as Envoy and gRPC do (a SotW ACK repeats
    the whole subscription; its bytes are built from a pre-serialized names block)."""

    def __init__(
        self, channel: grpc.aio.Channel, delta: bool, names: list[str], *, ack: bool = True
    ) -> None:
        self.delta = delta
        self.ack = ack
        self.block = discovery_pb2.DiscoveryRequest(resource_names=names).SerializeToString()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.got: list[bytes] = []
        self.call = channel.stream_stream(DELTA if delta else SOTW)(self._requests())
        self.task = asyncio.ensure_future(self._read())

    async def _requests(self) -> Any:
        while True:
            yield await self.queue.get()

    async def _read(self) -> None:
        while True:
            msg = await self.call.read()
            if msg is grpc.aio.EOF:
                return
            self.got.append(msg)
            if self.ack:
                self.queue.put_nowait(self._ack(msg))

    def _ack(self, raw: bytes) -> bytes:
        if self.delta:
            d = discovery_pb2.DeltaDiscoveryResponse.FromString(raw)
            ack = discovery_pb2.DeltaDiscoveryRequest(type_url=d.type_url, response_nonce=d.nonce)
            return ack.SerializeToString()
        r = discovery_pb2.DiscoveryResponse.FromString(raw)
        block = self.block if r.type_url == ENDPOINT else b""
        head = discovery_pb2.DiscoveryRequest(version_info=r.version_info).SerializeToString()
        tail = discovery_pb2.DiscoveryRequest(type_url=r.type_url, response_nonce=r.nonce)
        return head + block + tail.SerializeToString()  # field order, as clients write it

    def send(self, msg: Any) -> None:
        self.queue.put_nowait(msg.SerializeToString())


async def until(predicate: Any, deadline: float = 600) -> None:
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError
        await asyncio.sleep(0.002)


def exact(stream: Stream, new: list[bytes], i: int) -> bool:
    if len(new) != 1:
        return False
    if stream.delta:
        d = discovery_pb2.DeltaDiscoveryResponse.FromString(new[0])
        return d.type_url == ENDPOINT and [r.name for r in d.resources] == [cla(i)]
    r = discovery_pb2.DiscoveryResponse.FromString(new[0])
    return r.type_url == ENDPOINT and len(r.resources) == 1


async def main(address: str, services: int, count: int) -> None:
    opts = [("grpc.use_local_subchannel_pool", 1), ("grpc.max_receive_message_length", 64 << 20)]
    channels = [grpc.aio.insecure_channel(address, options=opts) for _ in range(4)]
    names = [cla(i) for i in range(services)]
    streams = []
    for k in range(count):
        delta = k % 2 == 0
        s = Stream(channels[k % 4], delta=delta, names=names)
        if s.delta:
            s.send(discovery_pb2.DeltaDiscoveryRequest(type_url=ENDPOINT))
            s.send(discovery_pb2.DeltaDiscoveryRequest(type_url=CLUSTER))
        else:
            s.send(discovery_pb2.DiscoveryRequest(type_url=ENDPOINT, resource_names=names))
            s.send(discovery_pb2.DiscoveryRequest(type_url=CLUSTER))
        streams.append(s)
    await until(lambda: all(len(s.got) >= 2 for s in streams))
    base = [len(s.got) for s in streams]
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line.startswith("CHECK"):
            return
        i = int(line.split()[1])
        await until(lambda b0=base: all(len(s.got) > b for s, b in zip(streams, b0, strict=True)))
        await asyncio.sleep(0.05)  # let any unexpected extra response arrive before checking
        ok = all(exact(s, s.got[b:], i) for s, b in zip(streams, base, strict=True))
        base = [len(s.got) for s in streams]
        print(f"RESULT {int(ok)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
