"""The floor of bench_xds's change-to-wire figure: a bare grpc.aio server doing only the writes.

Same clients (``bench._xds_clients``: 100 streams, half SotW with 10,000 EDS names that every ACK
repeats, all ACKing every response), same machine, same statistic. Each stream's handler waits
on one shared event and writes one pre-serialized response; no snapshot, no state machine. What
this costs is what grpc and the co-located clients cost; bench_xds's ratio is what dubbomesh adds.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2

from dubbomesh.xds.types import ENDPOINT

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "envoy.service.discovery.v3.AggregatedDiscoveryService"
CLIENTS = ("nice", "-n", "10", sys.executable, "-m", "bench._xds_clients")
"""The measured clients, at a lower CPU priority: on this 2-core machine they stand in for
Envoys running elsewhere, so the server and its grpc threads get the CPU first."""


def _responses() -> tuple[bytes, bytes]:
    body = any_pb2.Any(type_url=ENDPOINT, value=b"\x0a\x1aoutbound|50051||svc0.bench")
    sotw = discovery_pb2.DiscoveryResponse(
        version_info="v", type_url=ENDPOINT, nonce="1", resources=[body]
    )
    delta = discovery_pb2.DeltaDiscoveryResponse(
        system_version_info="v",
        type_url=ENDPOINT,
        nonce="1",
        resources=[discovery_pb2.Resource(name="svc0", version="1", resource=body)],
    )
    return sotw.SerializeToString(), delta.SerializeToString()


async def floor_samples(services: int, streams: int, rounds: int) -> list[float]:
    """Per-stream seconds from the event to the completed write, ``rounds`` times."""
    sotw, delta = _responses()
    state = {"event": asyncio.Event()}
    done: list[float] = []
    enough = asyncio.Event()
    want = [0]

    async def drain(requests: AsyncIterator[bytes]) -> None:
        async for _ in requests:
            pass

    def handler(payload: bytes):  # type: ignore[no-untyped-def]
        async def serve(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> None:
            reader = asyncio.ensure_future(drain(requests))
            try:
                await context.write(payload)  # the two responses the clients wait for
                await context.write(payload)
                event = state["event"]
                while True:
                    await event.wait()
                    event = state["event"]  # the next round's, installed before this one fired
                    await context.write(payload)
                    done.append(time.perf_counter())
                    if len(done) >= want[0]:
                        enough.set()
            finally:
                reader.cancel()

        return grpc.stream_stream_rpc_method_handler(serve)

    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
    methods = {
        "StreamAggregatedResources": handler(sotw),
        "DeltaAggregatedResources": handler(delta),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, methods),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    proc = await asyncio.create_subprocess_exec(
        *CLIENTS,
        f"127.0.0.1:{port}",
        str(services),
        str(streams),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 900)
    assert line.strip() == b"READY", line
    await asyncio.sleep(1.0)
    samples: list[float] = []
    for _ in range(rounds):
        mark = len(done)
        want[0] = mark + streams
        enough.clear()
        event, state["event"] = state["event"], asyncio.Event()
        t0 = time.perf_counter()
        event.set()
        await asyncio.wait_for(enough.wait(), 120)
        samples.extend(t - t0 for t in done[mark : mark + streams])
        await asyncio.sleep(0.08)  # bench_xds spaces its changes by a client round trip
    proc.stdin.write(b"STOP\n")
    await proc.wait()
    await server.stop(0)
    return samples
