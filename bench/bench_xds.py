"""xDS server: change-to-wire latency, exact pushes, memory per idle stream, MCP encode cost.

Targets (issue 3, point 5), with 10,000 services and 100 concurrent streams (quick: 1,000 / 20):
- a one-endpoint change sends exactly ONE resource to each Delta subscriber and only the changed
  ClusterLoadAssignment to each SotW EDS subscriber (nothing on CDS/LDS);
- catalog change (``LatestValue.set``) to bytes on the wire, p99 <= 50 ms. "On the wire" is the
  moment grpc completes the server's write of that stream's response (observer ``push``). The
  clients ACK every response as Envoy does (a SotW EDS ACK repeats all 10,000 names: ~400 KB), so
  the push competes with ACK traffic. Measured with the default collector right after the load,
  then with ``dubbomesh.aio.gcpolicy.GcPolicy`` (what the agent wires). Floor: a bare grpc.aio
  server writing one pre-serialized response per stream to the same clients
  (``bench/_xds_floor.py``), same statistic;
- memory per idle stream: RSS growth of this process per extra subscribed, idle stream (client
  channel costs in the same process included, so an upper bound);
- full MCP snapshot encode time against the floor of serializing the same messages once
  (a ``DiscoveryResponse`` already built from the same Any messages, ``SerializeToString``).

The measured clients run in their own process (``bench/_xds_clients.py``), at a lower CPU
priority (they stand in for Envoys on other machines), so the server's event loop is measured
alone; they parse what each stream received after every change to check exactly what was sent.
The idle-stream figure uses in-process clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import grpc
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2

from bench._xds_clients import Stream
from bench._xds_floor import CLIENTS, floor_samples
from dubbomesh.aio.gcpolicy import GcPolicy
from dubbomesh.aio.latest import LatestValue
from dubbomesh.mesh.intent import (
    Kind,
    MeshIntent,
    MeshObject,
    PortSpec,
    ServiceEntrySpec,
    WorkloadSpec,
)
from dubbomesh.mesh.objects import ObjectTable
from dubbomesh.xds.mcp import encode_mcp
from dubbomesh.xds.server import XdsServer
from dubbomesh.xds.settings import NullObserver, XdsSettings
from dubbomesh.xds.types import CLUSTER
from dubbomesh.xds.wire import sotw_response

ROOT = Path(__file__).resolve().parents[1]


def _service(i: int, variant: int = 0) -> MeshObject:
    eps = tuple(
        WorkloadSpec(
            f"10.{i // 250 % 250}.{i % 250}.{e + 1 + variant}", (("grpc-tri", 20880),), weight=100
        )
        for e in range(3)
    )
    spec = ServiceEntrySpec(
        hosts=(f"svc{i}.bench.mesh",), ports=(PortSpec(50051, "GRPC", "grpc-tri"),), endpoints=eps
    )
    return MeshObject.create(
        Kind.SERVICE_ENTRY,
        "bench",
        f"svc{i}",
        spec,
        labels=(("app.kubernetes.io/managed-by", "dubbomesh"),),
    )


def _intent(table: ObjectTable, version: str) -> MeshIntent:
    return table.intent((), catalog_version=version, complete=True, stale=False)


def _cla(i: int) -> str:
    return f"outbound|50051||svc{i}.bench.mesh"


class _Clock(NullObserver):
    """Records when each response write completed; wakes the bench when ``want`` were written."""

    def __init__(self) -> None:
        self.pushes: list[float] = []
        self.want = 0
        self.enough = asyncio.Event()

    def push(self, type_url: str, resources: int) -> None:
        self.pushes.append(time.perf_counter())
        if len(self.pushes) >= self.want:
            self.enough.set()

    async def until(self, count: int) -> None:
        self.want = count
        self.enough.clear()
        if len(self.pushes) < count:
            await asyncio.wait_for(self.enough.wait(), 120)


async def _until(predicate: Any, what: str, deadline: float = 600) -> None:
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(what)
        await asyncio.sleep(0.001)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


async def _latency(services: int, streams: int, changes: int) -> dict[str, float]:
    objs = [_service(i) for i in range(services)]
    table = ObjectTable()  # intents shaped as the renderer makes them (shared keys, C copies)
    for obj in objs:
        table.put(("u", obj.key), [obj])
    intents: LatestValue[MeshIntent] = LatestValue()
    clock = _Clock()
    settings = XdsSettings(
        listen=("127.0.0.1:0",), max_message_bytes=64 << 20, max_streams_per_peer=1000
    )
    server = XdsServer(settings, observer=clock)
    task = asyncio.ensure_future(server.serve(intents))
    await _until(lambda: server.addresses, "server start")
    intents.set(_intent(table, "c0"))
    await _until(lambda: server.snapshot is not None, "first snapshot")
    proc = await asyncio.create_subprocess_exec(
        *CLIENTS,
        server.addresses[0],
        str(services),
        str(streams),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 900)
    assert line.strip() == b"READY", line
    await asyncio.sleep(1.0)  # let the SotW ACKs (10,000 names each) be parsed before measuring
    exact = True
    runs = [f"policy{r + 1}" for r in range(POLICY_RUNS)]
    phases: dict[str, list[float]] = {"default": [], **{run: [] for run in runs}}
    policy = GcPolicy()
    for c in range((1 + POLICY_RUNS) * changes):
        phase = "default" if c < changes else runs[c // changes - 1]
        if c == changes:
            # As if the server had been given the policy from the start: its first call (one
            # full collection) happens at startup, then one freeze per snapshot.
            policy.published()
            server.gc_policy = policy
        i = (c * 7919) % services
        mark = len(clock.pushes)
        obj = _service(i, variant=1 + c)
        table.put(("u", obj.key), [obj])
        new = _intent(table, f"c{c + 1}")  # the renderer's work, not timed
        t0 = time.perf_counter()
        intents.set(new)
        await clock.until(mark + streams)
        phases[phase].extend(t - t0 for t in clock.pushes[mark : mark + streams])
        proc.stdin.write(f"CHECK {i}\n".encode())
        result = await asyncio.wait_for(proc.stdout.readline(), 120)
        exact &= result.strip() == b"RESULT 1"
        exact &= len(clock.pushes) - mark == streams
    proc.stdin.write(b"STOP\n")
    await proc.wait()
    channels = [grpc.aio.insecure_channel(server.addresses[0]) for _ in range(4)]
    gc.collect()
    rss_streams_before = _rss()
    idle = [Stream(channels[k % 4], True, [], ack=False) for k in range(streams)]
    for k, s in enumerate(idle):
        s.send(
            discovery_pb2.DeltaDiscoveryRequest(
                type_url=CLUSTER, resource_names_subscribe=[_cla(k)]
            )
        )
    await _until(lambda: all(len(s.got) >= 1 for s in idle), "idle streams")
    for s in idle:
        s.got.clear()
    gc.collect()
    per_idle = (_rss() - rss_streams_before) / streams
    for s in idle:
        s.call.cancel()
        s.task.cancel()
    for ch in channels:
        await ch.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task  # the server stops inside the same loop
    gc.unfreeze()
    out: dict[str, float] = {"exact": float(exact), "idle_bytes": per_idle}
    phases["policy"] = [t for run in runs for t in phases[run]]
    for phase, samples in phases.items():
        out[f"p50_{phase}"], out[f"p99_{phase}"] = _percentiles(samples)
        out[f"max_{phase}"] = max(samples) * 1000
    return out


def _encode(services: int) -> tuple[float, float, float]:
    objs = [_service(i) for i in range(services)]
    t0 = time.perf_counter()
    encoded = [encode_mcp(o) for o in objs]
    payload = sotw_response("v", "networking.istio.io/v1/ServiceEntry", "1", encoded)
    ours = time.perf_counter() - t0
    response = discovery_pb2.DiscoveryResponse(
        version_info="v",
        type_url="networking.istio.io/v1/ServiceEntry",
        nonce="1",
        resources=[any_pb2.Any.FromString(e.any_bytes) for e in encoded],
    )
    t0 = time.perf_counter()
    floor_bytes = response.SerializeToString()
    floor = time.perf_counter() - t0
    assert len(floor_bytes) == len(payload)
    t0 = time.perf_counter()
    sotw_response("v", "networking.istio.io/v1/ServiceEntry", "2", encoded)
    push = time.perf_counter() - t0
    return ours * 1000, floor * 1000, push * 1000


POLICY_RUNS = 3
"""The policy phase is measured as this many consecutive runs of ``changes`` changes each."""


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def measure(quick: bool) -> dict[str, float]:
    services, streams, changes = (1000, 20, 4) if quick else (10_000, 100, 60)

    async def both() -> tuple[dict[str, float], list[float]]:
        # One event loop for both servers: grpc.aio binds its poller to the first loop it sees.
        ours = await _latency(services, streams, changes)
        return ours, await floor_samples(services, streams, changes)

    result, bare = asyncio.run(both())
    bare_p50, bare_p99 = _percentiles(bare)
    ours, floor, push = _encode(services)
    return {
        **result,
        "bare_p50": bare_p50,
        "bare_p99": bare_p99,
        "encode": ours,
        "floor": floor,
        "push": push,
        "services": services,
        "streams": streams,
        "changes": changes,
    }


def run(quick: bool) -> list[Any]:
    from bench.harness import Figure

    m = measure(quick)
    scale = f"{int(m['services'])} services, {int(m['streams'])} streams"
    return [
        Figure(
            name=f"one-endpoint change: exactly 1 CLA per Delta/SotW-EDS stream ({scale})",
            value=m["exact"],
            unit="bool",
            floor=1.0,
            floor_name="exactly one resource",
            target="1 (every stream got exactly the changed ClusterLoadAssignment)",
            ok=m["exact"] == 1.0,
        ),
        Figure(
            name=f"catalog change -> bytes on the wire, p99 over every stream and "
            f"{POLICY_RUNS} x {int(m['changes'])} changes, GC policy (aio.gcpolicy) ({scale})",
            value=m["p99_policy"],
            unit="ms",
            floor=m["bare_p99"],
            floor_name="p99 of a bare grpc.aio server writing to the same clients",
            target=f"p99 <= 50 ms (p50 {m['p50_policy']:.1f}, worst {m['max_policy']:.0f}; p99 of "
            f"{POLICY_RUNS} runs: "
            + ", ".join(f"{m[f'p99_policy{r + 1}']:.0f}" for r in range(POLICY_RUNS))
            + f"; bare grpc p50 {m['bare_p50']:.1f})",
            ok=m["p99_policy"] <= 50.0,
        ),
        Figure(
            name=f"same, {int(m['changes'])} changes with the default CPython GC, right after the "
            f"initial load ({scale})",
            value=m["p99_default"],
            unit="ms",
            floor=m["bare_p99"],
            floor_name="p99 of a bare grpc.aio server writing to the same clients",
            target=f"informational: full collections of the loaded heap (p50 "
            f"{m['p50_default']:.1f}, worst {m['max_default']:.0f})",
            ok=None,
        ),
        Figure(
            name=f"memory per idle Delta stream subscribed to one Cluster ({scale})",
            value=m["idle_bytes"] / 1024,
            unit="KiB",
            floor=None,
            floor_name="none",
            target="informational (RSS growth, in-process client channel included)",
            ok=None,
        ),
        Figure(
            name=f"full MCP snapshot encode, {int(m['services'])} ServiceEntries",
            value=m["encode"],
            unit="ms",
            floor=m["floor"],
            floor_name="SerializeToString of the same DiscoveryResponse once",
            target=f"informational; each further push joins shared frames: {m['push']:.1f} ms",
            ok=None,
        ),
    ]


if __name__ == "__main__":
    import sys

    print(measure("--quick" in sys.argv))
