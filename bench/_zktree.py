"""Shared helpers of the ZooKeeper benchmarks: a real server, a big Dubbo tree, and the floors.

Why this module exists: the sync, latency and memory benchmarks all need the same realistic tree
(``interfaces x providers`` with Dubbo-length URLs, plus empty configurators directories) written
fast (pipelined creates), and the same "raw" baselines written with bare kazoo, so that every
figure is compared with what the hardware and kazoo can do at best.
"""

from __future__ import annotations

import time
from collections import deque

from kazoo.client import KazooClient

from dubbomesh.zk.seed import node_name, provider_url

ROOT = "/dubbo"


SPREAD = "spread"
"""Every provider on its own IP (100,000 workloads at 10,000 x 10): the worst case for memory."""
SHARED = "shared"
"""What Dubbo deployments look like: a provider process serves many interfaces. Interfaces come in
blocks of 100 served by one application; provider j of a block runs on one address, so 10,000
interfaces x 10 providers live on 1,000 addresses (100 applications x 10 instances), each address
serving 100 interfaces."""


def iface(i: int) -> str:
    """The name of the i-th benchmark interface."""
    return f"com.example.bench.service{i // 100}.BenchService{i}"


def _ip(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def host(i: int, j: int, layout: str = SPREAD) -> str:
    """The address of provider j of interface i."""
    if layout == SHARED:
        return _ip(0x100000 + (i // 100) * 64 + j)
    return _ip(i * 64 + j)


def application(i: int, layout: str = SPREAD) -> str:
    """The application of the providers of interface i."""
    return f"bench-app-{i // 100}" if layout == SHARED else f"bench-app-{i % 500}"


def provider_name(i: int, j: int, layout: str = SPREAD) -> str:
    """The node name of provider j of interface i (about 450 characters, like real ones)."""
    url = provider_url(
        "dubbo",
        host(i, j, layout),
        20880,
        iface(i),
        application=application(i, layout),
        extra={"methods": "create,delete,find,list,update", "threads": "200", "weight": "100"},
    )
    return node_name(url)


def connect(hosts: str) -> KazooClient:
    """A started kazoo client."""
    client = KazooClient(hosts=hosts, timeout=30)
    client.start(timeout=60)
    return client


def _pipelined(client: KazooClient, ops: list[tuple[str, bool]], window: int = 4000) -> None:
    pending: deque[object] = deque()
    for path, ephemeral in ops:
        pending.append(client.create_async(path, b"", ephemeral=ephemeral))
        if len(pending) >= window:
            pending.popleft().get()  # type: ignore[attr-defined]
    while pending:
        pending.popleft().get()  # type: ignore[attr-defined]


def populate(
    client: KazooClient, interfaces: int, providers: int, start: int = 0, layout: str = SPREAD
) -> int:
    """Write ``interfaces x providers`` persistent provider nodes; returns the endpoint count."""
    client.ensure_path(ROOT)
    dirs: list[tuple[str, bool]] = []
    for i in range(start, start + interfaces):
        base = f"{ROOT}/{iface(i)}"
        dirs += [(base, False), (f"{base}/providers", False), (f"{base}/configurators", False)]
    _pipelined(client, dirs)
    nodes = [
        (f"{ROOT}/{iface(i)}/providers/{provider_name(i, j, layout)}", False)
        for i in range(start, start + interfaces)
        for j in range(providers)
    ]
    _pipelined(client, nodes)
    return len(nodes)


def raw_listing(hosts: str) -> tuple[float, int]:
    """The floor: connect, list the root, then every providers and configurators directory with
    all requests pipelined at once and no watches. Returns (seconds, names listed)."""
    t0 = time.perf_counter()
    client = connect(hosts)
    try:
        dirs = client.get_children(ROOT)
        results = []
        for d in dirs:
            results.append(client.get_children_async(f"{ROOT}/{d}/providers"))
            results.append(client.get_children_async(f"{ROOT}/{d}/configurators"))
        names = sum(len(r.get()) for r in results)
        return time.perf_counter() - t0, names
    finally:
        client.stop()
        client.close()
