"""``dubbomesh demo``: a local ZooKeeper with sample providers and the agent publishing them.

Why this module exists: the README's first command must show the whole product on a fresh
machine with nothing else running. It starts a real ZooKeeper (Docker when reachable, else the
Debian package's server), registers sample Dubbo providers (dubbo and tri protocols, a
group/version pair, a Dubbo 3 application-level instance, an override that disables one
provider), runs the real agent against it and prints what it publishes each time that changes.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

import anyio

from dubbomesh.agent.app import Agent, watch_signals
from dubbomesh.agent.config import AgentConfig, resolve
from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.agent.logs import setup_logging
from dubbomesh.mesh.intent import Kind, MeshIntent, ServiceEntrySpec
from dubbomesh.zk.seed import seed_demo


def describe(intent: MeshIntent) -> str:
    """A human summary of an intent: one block per ServiceEntry, endpoints listed."""
    lines = [
        f"== published intent {intent.version} (catalog {intent.catalog_version}): "
        f"{len(intent)} objects =="
    ]
    for obj in intent.of_kind(Kind.SERVICE_ENTRY):
        spec = obj.spec
        if not isinstance(spec, ServiceEntrySpec):
            continue
        ports = ", ".join(f"{p.name}/{p.number}" for p in spec.ports)
        addrs = f" addresses={list(spec.addresses)}" if spec.addresses else ""
        lines.append(f"ServiceEntry {obj.key}  hosts={list(spec.hosts)} ports=[{ports}]{addrs}")
        for ep in spec.endpoints:
            eports = ",".join(f"{k}:{v}" for k, v in ep.ports)
            weight = ep.weight or "default"
            lines.append(f"    endpoint {ep.address} ports={{{eports}}} weight={weight}")
    wes = list(intent.of_kind(Kind.WORKLOAD_ENTRY))
    if wes:
        lines.append(f"WorkloadEntries: {', '.join(o.name for o in wes)}")
    for p in intent.problems:
        lines.append(f"problem {p.code}: {p.text}")
    return "\n".join(lines)


async def _print_intents(agent: Agent, out: TextIO, once: bool) -> None:
    seen = 0
    while True:
        seen, intent = await agent.intents.wait_newer(seen)
        catalog = agent.catalogs.get()
        if catalog is not None:
            print(f"== catalog {catalog.version}: {len(catalog)} services ==", file=out)
            for service in catalog:
                eps = ", ".join(f"{e.protocol}://{e.address}:{e.port} w={e.weight}"
                                for e in service.endpoints)  # fmt: skip
                print(f"{service.id.key}: {eps}", file=out)
        print(describe(intent), file=out, flush=True)
        if once:
            agent.stop()
            return


def demo_config(zk: str, output_dir: str, xds_listen: str, http_listen: str) -> AgentConfig:
    """The agent settings of the demo (loopback providers allowed, file sink on)."""
    return resolve(
        {
            "zk": [zk],
            "allow-loopback-endpoints": "true",
            "sink": ["file"],
            "output-dir": output_dir,
            "xds-listen": [xds_listen],
            "http-listen": http_listen,
            "namespace": "dubbo-demo",
            "debounce": "0.05",
        },
        env={},
    )


def run_demo(*, output_dir: str, once: bool, xds_listen: str, http_listen: str) -> int:
    """Blocking entry point of ``dubbomesh demo``."""
    setup_logging("info", "text")
    with LocalZooKeeper() as zk:
        print(f"demo: ZooKeeper serving on {zk.connect_string}", flush=True)
        for line in seed_demo(zk.connect_string):
            print(f"demo: registered {line}", flush=True)
        config = demo_config(zk.connect_string, output_dir, xds_listen, http_listen)
        print(
            f"demo: agent xDS on {xds_listen}, health/metrics/debug on http://{http_listen} "
            f"(/readyz /metrics /debug/catalog), manifests in {output_dir}/",
            flush=True,
        )
        if not once:
            print("demo: Ctrl-C to stop", flush=True)

        async def main() -> None:
            agent = Agent(config)
            async with anyio.create_task_group() as tg:
                tg.start_soon(_print_intents, agent, sys.stdout, once)
                tg.start_soon(watch_signals, agent)
                await agent.run()
                tg.cancel_scope.cancel()

        with contextlib.suppress(KeyboardInterrupt):
            anyio.run(main)
    return 0
