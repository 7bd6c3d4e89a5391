"""Run the real agent (``dubbomesh run ... --xds-listen``) in-process for end-to-end xDS tests."""

from __future__ import annotations

from tests.support.agent import running_agent

__all__ = ["agent_flags", "running_agent"]


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
