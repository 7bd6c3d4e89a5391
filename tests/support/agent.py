"""Run the real agent in-process, built from ``dubbomesh run`` flags exactly as the CLI wires it.

Why this module exists: end-to-end tests (xDS, Kubernetes) need the whole chain (ZooKeeper ->
catalog -> intent -> sinks) as users run it, while still reaching into the agent's status and
stopping it gracefully at the end of a block.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from dubbomesh.agent.app import Agent
from dubbomesh.agent.cli import build_parser, config_from_args


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
