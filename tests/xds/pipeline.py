"""Run the real agent (``dubbomesh run ... --xds-listen``) in-process for end-to-end xDS tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from dubbomesh.agent.app import Agent
from dubbomesh.agent.cli import build_parser, config_from_args


def agent_flags(zk: str, namespace: str, *extra: str) -> list[str]:
    """An agent serving xDS on a free loopback port, publishing nowhere else."""
    return [
        "--zk",
        zk,
        "--root",
        "/dubbo",
        "--namespace",
        namespace,
        "--allow-loopback-endpoints",
        "true",
        "--debounce",
        "0.05",
        "--debounce-max",
        "0.5",
        "--xds-listen",
        "127.0.0.1:0",
        "--http-listen",
        "none",
        *extra,
    ]


@asynccontextmanager
async def running_agent(flags: list[str]) -> AsyncIterator[Agent]:
    """Run an :class:`Agent` built from ``dubbomesh run <flags>`` until the block ends."""
    config = config_from_args(build_parser().parse_args(["run", *flags]))
    agent = Agent(config)
    async with anyio.create_task_group() as tg:
        started: Any = await tg.start(agent.run)
        assert started is agent
        try:
            yield agent
        finally:
            agent.stop()
