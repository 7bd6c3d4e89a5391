"""Resident memory per endpoint of the live mirror + catalog (+ rendered mesh intent).

Target (issue 2, point 8): at most 1 KiB of resident memory per endpoint at 100,000 endpoints
(10,000 interfaces x 10 providers from a real ZooKeeper). Measured in a fresh child process as the
RSS growth from "everything imported, event loop running" to "mirror ready, catalog snapshot and
mesh intent held", after a full garbage collection. The zk adapter's own share (mirror + kazoo
watch tables, events discarded) is measured in another child and reported alongside.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio

from bench._zktree import connect, populate
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


async def _measure(hosts: str, what: str) -> dict[str, float]:
    settings = RegistrySettings(name="bench", hosts=hosts, resync_interval=0)
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


def _child(what: str, hosts: str) -> None:
    print(json.dumps(anyio.run(_measure, hosts, what)))


def _spawn(what: str, hosts: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "bench.bench_memory", "--child", what, hosts]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO, env=env)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool) -> list[object]:
    from bench.harness import Figure

    interfaces, providers = (1000, 10) if quick else (10_000, 10)
    total = interfaces * providers
    with LocalZooKeeper(backend="auto") as server:
        writer = connect(server.connect_string)
        try:
            populate(writer, interfaces, providers)
        finally:
            writer.stop()
            writer.close()
        full = _spawn("full", server.connect_string)
        mirror = _spawn("mirror", server.connect_string)
    per_full = (full["after"] - full["before"]) / total
    per_mirror = (mirror["after"] - mirror["before"]) / total
    held = "mirror + catalog + mesh intent" if full["intent"] else "mirror + catalog"
    return [
        Figure(
            name=f"resident memory per endpoint, {held}, {total} endpoints",
            value=per_full,
            unit="B",
            floor=None,
            floor_name="",
            target=f"<= 1024 B per endpoint ({full['endpoints']:.0f} endpoints in the catalog)",
            ok=per_full <= 1024,
        ),
        Figure(
            name=f"resident memory per endpoint, zk mirror alone, {total} endpoints",
            value=per_mirror,
            unit="B",
            floor=None,
            floor_name="",
            target="informational: the adapter's share of the budget",
            ok=True,
        ),
    ]


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--child":
    _child(sys.argv[2], sys.argv[3])
