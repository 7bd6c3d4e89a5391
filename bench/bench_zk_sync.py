"""Initial sync of a big registry from a real ZooKeeper, against a raw pipelined listing.

Target (issue 2, point 8): 10,000 interfaces x 10 providers mirrored (first complete listing
handed out) within 1.5x the time of the raw pipelined listing of the same tree (bare kazoo, no
watches, no processing). Also reported: the same sync feeding the real catalog builder.
"""

from __future__ import annotations

import statistics
import time

import anyio

from bench._zktree import connect, populate, raw_listing
from bench.harness import Figure
from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder
from dubbomesh.dubbo.registry import RegistryEvent
from dubbomesh.zk.settings import RegistrySettings
from dubbomesh.zk.source import run_registry


async def _mirror_sync(hosts: str, with_builder: bool) -> tuple[float, int]:
    settings = RegistrySettings(name="bench", hosts=hosts, resync_interval=0)
    builder = CatalogBuilder(["bench"], BuildPolicy()) if with_builder else None
    count = 0

    def sink(event: RegistryEvent) -> None:
        nonlocal count
        count += 1
        if builder is not None:
            builder.apply(event)

    t0 = time.perf_counter()
    async with anyio.create_task_group() as tg:
        await tg.start(run_registry, settings, sink)
        endpoints = builder.snapshot().endpoint_count if builder is not None else count
        elapsed = time.perf_counter() - t0
        tg.cancel_scope.cancel()
    return elapsed, endpoints


def run(quick: bool) -> list[Figure]:
    interfaces, providers, rounds = (500, 10, 3) if quick else (10_000, 10, 3)
    with LocalZooKeeper(backend="auto") as server:
        writer = connect(server.connect_string)
        try:
            total = populate(writer, interfaces, providers)
        finally:
            writer.stop()
            writer.close()
        raw_listing(server.connect_string)  # warm the server's JIT and caches
        floor = min(raw_listing(server.connect_string)[0] for _ in range(rounds))
        ours = [anyio.run(_mirror_sync, server.connect_string, False)[0] for _ in range(rounds)]
        catalog = [anyio.run(_mirror_sync, server.connect_string, True) for _ in range(rounds)]
    best = min(ours)
    size = f"{interfaces} interfaces x {providers} providers ({total} nodes)"
    return [
        Figure(
            name=f"zk initial sync, {size}",
            value=best,
            unit="s",
            floor=floor,
            floor_name="raw pipelined kazoo listing of the same tree",
            target="<= 1.5x floor",
            ok=best <= 1.5 * floor,
        ),
        Figure(
            name=f"zk initial sync into the catalog builder, {size}",
            value=min(t for t, _ in catalog),
            unit="s",
            floor=floor,
            floor_name="raw pipelined kazoo listing of the same tree",
            target=f"informational (median {statistics.median(t for t, _ in catalog):.2f}s, "
            f"{catalog[0][1]} endpoints)",
            ok=True,
        ),
    ]
