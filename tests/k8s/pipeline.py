"""Run the real agent (``dubbomesh run --sink kubernetes ...``) in-process for end-to-end tests.

Why this module exists: the end-to-end tests must exercise the whole chain (ZooKeeper -> catalog
-> intent -> Kubernetes sink) exactly as the CLI wires it, while still letting a test stop one
agent gracefully or abruptly and read its status.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.agent import running_agent

__all__ = ["agent_flags", "running_agent"]


def agent_flags(zk: str, namespace: str, kubeconfig: Path, *extra: str) -> list[str]:
    """CLI flags of an agent publishing ``zk`` into ``namespace`` as the restricted identity."""
    return [
        "--zk",
        zk,
        "--namespace",
        namespace,
        "--kubeconfig",
        str(kubeconfig),
        "--sink",
        "kubernetes",
        "--owner",
        "e2e",
        "--delete-grace",
        "1",
        "--lease-duration",
        "4",
        "--zk-session-timeout",
        "4",
        "--debounce",
        "0.05",
        "--debounce-max",
        "0.5",
        "--xds-listen",
        "none",
        "--http-listen",
        "none",
        *extra,
    ]
