"""``dubbomesh render``: list ZooKeeper once, print the Istio manifests, exit.

Why this module exists: a dry run for operators (what WOULD be published?) and a building block
for GitOps, using exactly the production pipeline (same adapter, builder and renderer) so what it
prints is what ``run`` publishes.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, TextIO

import anyio
import yaml

from dubbomesh.agent.config import AgentConfig
from dubbomesh.agent.pipeline import Clock, Debounce, run_catalog
from dubbomesh.agent.wiring import build_catalog_builder, build_renderer, registry_settings
from dubbomesh.aio.latest import LatestValue
from dubbomesh.dubbo.model import Catalog
from dubbomesh.dubbo.registry import RegistryEvent
from dubbomesh.mesh.intent import MeshIntent
from dubbomesh.mesh.manifests import to_manifest
from dubbomesh.zk.source import run_registry


async def list_once(config: AgentConfig) -> Catalog:
    """Run the ZooKeeper adapters until every registry completed one listing."""
    send, receive = anyio.create_memory_object_stream[RegistryEvent](math.inf)
    catalogs: LatestValue[Catalog] = LatestValue()
    builder = build_catalog_builder(config)
    async with anyio.create_task_group() as tg:
        for target in config.registries:
            tg.start_soon(run_registry, registry_settings(config, target), send.clone())
        send.close()
        tg.start_soon(run_catalog, receive, builder, catalogs, Debounce(0.0, 0.0), Clock())
        _, catalog = await catalogs.wait_newer(0)
        tg.cancel_scope.cancel()
    return catalog


def write_manifests(intent: MeshIntent, output: str, out: TextIO) -> None:
    """Print every object as YAML documents or one JSON ``List``."""
    manifests: list[dict[str, Any]] = [
        json.loads(json.dumps(to_manifest(o))) for o in intent.objects.values()
    ]
    if output == "json":
        json.dump({"apiVersion": "v1", "kind": "List", "items": manifests}, out, indent=2)
        out.write("\n")
    else:
        yaml.safe_dump_all(manifests, out, sort_keys=True, default_flow_style=False)


def run_render(config: AgentConfig, *, output: str, timeout: float) -> int:
    """Blocking entry point; exit 1 when ZooKeeper could not be listed in time."""

    async def main() -> Catalog | None:
        with anyio.move_on_after(timeout):
            return await list_once(config)
        return None

    catalog = anyio.run(main)
    if catalog is None:
        hosts = ", ".join(t.hosts for t in config.registries)
        print(
            f"dubbomesh render: no complete listing of {hosts} within {timeout:.0f}s "
            "(is ZooKeeper reachable?)",
            file=sys.stderr,
        )
        return 1
    intent = build_renderer(config).render(catalog)
    for problem in intent.problems:
        print(f"dubbomesh render: warning: {problem.code}: {problem.text}", file=sys.stderr)
    write_manifests(intent, output, sys.stdout)
    return 0
