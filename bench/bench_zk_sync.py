"""Initial sync of a big registry from a real ZooKeeper, against a raw pipelined listing.

Target (issue 2, point 8): 10,000 interfaces x 10 providers synced within 1.5x the time of the raw
pipelined listing of the same tree (bare kazoo, no watches, no processing). The clock stops when
the agent has a COMPLETE CATALOG: the mirror's first complete listing fed into the real catalog
builder (``early_events``: the builder decodes directories while the listing still waits on the
network) and its snapshot taken. Also reported: the mirror alone (events discarded) and the
builder fed only after the listing completed (events held back, the adapter's default).
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

MODES = ("catalog", "mirror", "held")
"""catalog: early events into the builder, until a complete snapshot; mirror: first complete
listing, events discarded; held: events held until the listing completes, then the builder."""


async def _sync(hosts: str, mode: str) -> tuple[float, int]:
    settings = RegistrySettings(
        name="bench", hosts=hosts, resync_interval=0, early_events=mode == "catalog"
    )
    builder = CatalogBuilder(["bench"], BuildPolicy()) if mode != "mirror" else None
    count = 0

    def sink(event: RegistryEvent) -> None:
        nonlocal count
        count += 1
        if builder is not None:
            builder.apply(event)

    t0 = time.perf_counter()
    async with anyio.create_task_group() as tg:
        await tg.start(run_registry, settings, sink)
        catalog = builder.snapshot() if builder is not None else None
        elapsed = time.perf_counter() - t0
        tg.cancel_scope.cancel()
    if catalog is not None and not catalog.complete:  # pragma: no cover - a bench bug
        raise RuntimeError("the catalog is not complete after the first listing")
    return elapsed, catalog.endpoint_count if catalog is not None else count


def run(quick: bool) -> list[Figure]:
    interfaces, providers, rounds = (500, 10, 3) if quick else (10_000, 10, 3)
    times: dict[str, list[float]] = {m: [] for m in MODES}
    endpoints = 0
    with LocalZooKeeper(backend="auto") as server:
        writer = connect(server.connect_string)
        try:
            total = populate(writer, interfaces, providers)
        finally:
            writer.stop()
            writer.close()
        raw_listing(server.connect_string)  # warm the server's JIT and caches
        floors = []
        for _ in range(rounds):  # interleaved, so that background load hits every mode alike
            floors.append(raw_listing(server.connect_string)[0])
            for mode in MODES:
                elapsed, found = anyio.run(_sync, server.connect_string, mode)
                times[mode].append(elapsed)
                endpoints = found if mode == "catalog" else endpoints
    floor = min(floors)
    best = {m: min(v) for m, v in times.items()}
    size = f"{interfaces} interfaces x {providers} providers ({total} nodes)"
    floor_name = "raw pipelined kazoo listing of the same tree (best of rounds)"

    def median(mode: str) -> str:
        return f"median {statistics.median(times[mode]):.2f} s of {rounds}"

    return [
        Figure(
            name=f"zk initial sync to a complete catalog, {size}",
            value=best["catalog"],
            unit="s",
            floor=floor,
            floor_name=floor_name,
            target=f"<= 1.5x floor ({median('catalog')}; {endpoints} endpoints)",
            ok=best["catalog"] <= 1.5 * floor,
        ),
        Figure(
            name=f"zk initial sync, mirror alone (events discarded), {size}",
            value=best["mirror"],
            unit="s",
            floor=floor,
            floor_name=floor_name,
            target=f"informational: the adapter's share ({median('mirror')})",
            ok=None,
        ),
        Figure(
            name=f"zk initial sync to a complete catalog, events held until listed, {size}",
            value=best["held"],
            unit="s",
            floor=floor,
            floor_name=floor_name,
            target=f"informational: without early_events ({median('held')})",
            ok=None,
        ),
    ]
