"""Initial sync of a big registry from a real ZooKeeper, against a raw pipelined listing.

Target (issue 2, point 8): 10,000 interfaces x 10 providers synced within 1.5x the time of the raw
pipelined listing of the same tree (bare kazoo, no watches, no processing). The clock runs the
AGENT'S OWN PATH, as ``dubbomesh render`` does: the registry adapter (``early_events``, as the
agent wires it) feeding the catalog task over the event stream, until the first complete catalog
is published. Also reported: the mirror alone (events discarded), the adapter's share.
"""

from __future__ import annotations

import gc
import statistics
import time

import anyio

from bench._zktree import connect, populate, raw_listing
from bench.harness import Figure
from dubbomesh.agent.config import resolve
from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.agent.render_cmd import list_once
from dubbomesh.dubbo.registry import RegistryEvent
from dubbomesh.zk.settings import RegistrySettings
from dubbomesh.zk.source import run_registry

MODES = ("catalog", "mirror")
"""catalog: the agent's path to its first complete catalog; mirror: first complete listing,
events discarded."""


async def _mirror(hosts: str) -> tuple[float, int]:
    settings = RegistrySettings(name="bench", hosts=hosts, resync_interval=0, early_events=True)
    count = 0

    def sink(event: RegistryEvent) -> None:
        nonlocal count
        count += 1

    t0 = time.perf_counter()
    async with anyio.create_task_group() as tg:
        await tg.start(run_registry, settings, sink)
        elapsed = time.perf_counter() - t0
        tg.cancel_scope.cancel()
    return elapsed, count


async def _catalog(hosts: str) -> tuple[float, int]:
    config = resolve({"zk": [hosts], "namespace": "bench", "resync-interval": 0}, env={})
    t0 = time.perf_counter()
    catalog = await list_once(config)
    elapsed = time.perf_counter() - t0
    if not catalog.complete:  # pragma: no cover - a bench bug
        raise RuntimeError("the catalog is not complete after the first listing")
    return elapsed, catalog.endpoint_count


async def _sync(hosts: str, mode: str) -> tuple[float, int]:
    gc.unfreeze()  # each round starts from the same heap: the agent freezes what it loads
    gc.collect()
    return await (_catalog(hosts) if mode == "catalog" else _mirror(hosts))


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
        gc.unfreeze()
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
            target=f"<= 1.5x floor ({median('catalog')}; {endpoints} endpoints; agent path)",
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
    ]
