"""How fast a znode change reaches the catalog, against bare kazoo watches on the same node.

Target (issue 2, point 8): with no debounce, a new provider node is in the catalog (builder
snapshot) within 2x the latency of a bare kazoo watch on the same providers directory. The floor
is kazoo's own ``ChildrenWatch`` on that directory, measured in the same run, on the same server
and tree: the watch fires and the children are re-read, which is exactly the information our
pipeline needs and delivers (a bare notification says only "something changed"; it is reported
as well, as the absolute lower bound). Full mode measures on a tree of 10,000 interfaces x 10
providers, quick mode on 100 interfaces.
"""

from __future__ import annotations

import statistics
import threading
import time

import anyio

from bench._zktree import ROOT, connect, iface, populate, provider_name
from bench.harness import Figure
from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder
from dubbomesh.dubbo.model import ServiceId
from dubbomesh.dubbo.registry import ProvidersChanged, RegistryEvent
from dubbomesh.zk.settings import RegistrySettings
from dubbomesh.zk.source import run_registry

BASE = 10
"""Providers under the measured directory; each sample adds one and removes it afterwards (out
of the timed window), so every sample sees a directory of the tree's own size."""


def _node(k: int) -> str:
    return f"{ROOT}/{iface(0)}/providers/{provider_name(0, BASE + k)}"


def _bare_watch(hosts: str, first: int, count: int) -> list[float]:
    reader, writer = connect(hosts), connect(hosts)
    path = f"{ROOT}/{iface(0)}/providers"
    out: list[float] = []
    try:
        for k in range(first, first + count):
            fired = threading.Event()
            stamp: list[float] = []

            def watch(
                _event: object, stamp: list[float] = stamp, fired: threading.Event = fired
            ) -> None:
                stamp.append(time.perf_counter())
                fired.set()

            reader.get_children(path, watch=watch)
            t0 = time.perf_counter()
            writer.create(_node(k))
            fired.wait(10)
            out.append(stamp[0] - t0)
            writer.delete(_node(k))  # back to BASE providers (no watch is set right now)
    finally:
        for c in (reader, writer):
            c.stop()
            c.close()
    return out


def _children_watch(hosts: str, first: int, count: int) -> list[float]:
    reader, writer = connect(hosts), connect(hosts)
    path = f"{ROOT}/{iface(0)}/providers"
    out: list[float] = []
    expect: list[str] = [""]
    seen = threading.Event()
    stamp: list[float] = [0.0]

    gone = threading.Event()

    def on_children(children: list[str]) -> None:
        if expect[0] in children:
            stamp[0] = time.perf_counter()
            seen.set()
        elif len(children) == BASE:
            gone.set()

    try:
        reader.ChildrenWatch(path, on_children)
        for k in range(first, first + count):
            seen.clear()
            expect[0] = _node(k).rsplit("/", 1)[1]
            t0 = time.perf_counter()
            writer.create(_node(k))
            seen.wait(10)
            out.append(stamp[0] - t0)
            gone.clear()
            writer.delete(_node(k))
            gone.wait(10)  # the recipe has re-listed BASE providers: the next sample starts clean
    finally:
        for c in (reader, writer):
            c.stop()
            c.close()
    return out


async def _ours(hosts: str, first: int, count: int) -> tuple[list[float], list[float]]:
    """(change -> catalog, change -> mirror event) latencies."""
    settings = RegistrySettings(name="bench", hosts=hosts, resync_interval=0)
    builder = CatalogBuilder(["bench"], BuildPolicy())
    sid = ServiceId(iface(0))
    want = [0]
    stamp = [0.0]
    done = [anyio.Event()]

    emitted = [0.0]

    def sink(event: RegistryEvent) -> None:
        if isinstance(event, ProvidersChanged) and event.directory == iface(0):
            emitted[0] = time.perf_counter()
        builder.apply(event)
        if isinstance(event, ProvidersChanged) and event.directory == iface(0):
            service = builder.snapshot().get(sid)
            if service is not None and len(service.endpoints) == want[0]:
                stamp[0] = time.perf_counter()
                done[0].set()

    writer = connect(hosts)

    def create(path: str) -> float:
        t0 = time.perf_counter()
        writer.create(path)
        return t0

    async def settle(expected: int) -> None:
        want[0] = expected
        done[0] = anyio.Event()
        service = builder.snapshot().get(sid)
        if service is None or len(service.endpoints) != expected:
            with anyio.fail_after(10):
                await done[0].wait()

    out: list[float] = []
    mirror: list[float] = []
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(run_registry, settings, sink)
            for k in range(first, first + count):
                want[0] = BASE + 1
                done[0] = anyio.Event()
                t0 = await anyio.to_thread.run_sync(create, _node(k))
                with anyio.fail_after(10):
                    await done[0].wait()
                out.append(stamp[0] - t0)
                mirror.append(emitted[0] - t0)
                await anyio.to_thread.run_sync(writer.delete, _node(k))
                await settle(BASE)  # back to BASE providers before the next sample
            tg.cancel_scope.cancel()
    finally:
        writer.stop()
        writer.close()
    return out, mirror


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def run(quick: bool) -> list[Figure]:
    interfaces, n = (100, 30) if quick else (10_000, 200)
    with LocalZooKeeper(backend="auto") as server:
        writer = connect(server.connect_string)
        try:
            populate(writer, interfaces, BASE)
        finally:
            writer.stop()
            writer.close()
        hosts = server.connect_string
        _bare_watch(hosts, 10_000, 20)  # warm-up
        bare = _bare_watch(hosts, 0, n)
        recipe = _children_watch(hosts, n, n)
        ours, mirror = anyio.run(_ours, hosts, 2 * n, n)
    floor, value, raw = _ms(recipe), _ms(ours), _ms(bare)
    tail = statistics.quantiles(ours, n=10)[-1] * 1000
    size = f"tree of {interfaces} interfaces x {BASE} providers"
    return [
        Figure(
            name=f"znode change -> catalog, median of {n} ({size})",
            value=value,
            unit="ms",
            floor=floor,
            floor_name="kazoo ChildrenWatch on the same directory: fires + re-lists (median)",
            target=f"<= 2x floor (p90 {tail:.2f} ms; {value / raw:.1f}x a bare notification)",
            ok=value <= 2 * floor,
        ),
        Figure(
            name=f"znode change -> zk mirror event (adapter only), median of {n}",
            value=_ms(mirror),
            unit="ms",
            floor=floor,
            floor_name="kazoo ChildrenWatch on the same directory: fires + re-lists (median)",
            target="informational: the adapter's share",
            ok=None,
        ),
        Figure(
            name="znode change -> bare kazoo watch notification, no re-read (median)",
            value=raw,
            unit="ms",
            floor=None,
            floor_name="",
            target="informational: the absolute lower bound (carries no children)",
            ok=None,
        ),
    ]
