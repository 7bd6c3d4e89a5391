"""Kubernetes sink against the REAL API server: writes, no-op suppression, and a naive baseline.

Targets (issue 4, point 6):
- initial apply of N ServiceEntries: writes == objects; time compared with the configured client
  rate limit (N / qps is the floor any rate-limited writer has);
- 1,000 provider restarts that only change volatile params (timestamp, pid): 0 writes;
- one real endpoint change: exactly 1 write;
- the same workload through the naive strategy of the best-known existing tool (dubbo2istio: GET
  plus full PUT, or POST when absent, per debounced interface event), as a ratio of API requests.

The intents come from the real pipeline pieces (CatalogBuilder fed Dubbo registry events, the
incremental Renderer), so "volatile params write nothing" is measured end to end, not assumed.
The API server is ``tests/support/kube.py``'s local kube-apiserver + etcd
(scripts/build-go-peers.sh).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from bench.harness import Figure
from dubbomesh.aio.latest import LatestValue
from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged
from dubbomesh.k8s import errors
from dubbomesh.k8s.client import KubeClient
from dubbomesh.k8s.manifest import desired_manifest
from dubbomesh.k8s.observer import CountingObserver
from dubbomesh.k8s.resources import istio_resource
from dubbomesh.k8s.settings import K8sSettings
from dubbomesh.k8s.sink import run_kubernetes_sink
from dubbomesh.mesh.intent import Kind, MeshIntent, MeshObject
from dubbomesh.mesh.render import Renderer
from dubbomesh.mesh.settings import MeshSettings
from dubbomesh.zk.seed import node_name, provider_url

QPS = 200.0
"""Client-side rate limit used by both writers (ours and the naive baseline)."""


class Registry:
    """N interfaces with one provider each, turned into intents by the real pipeline pieces."""

    def __init__(self, n: int, namespace: str) -> None:
        self.n = n
        self.builder = CatalogBuilder(["bench"], BuildPolicy())
        self.renderer = Renderer(MeshSettings(namespace=namespace))
        self.stamp = 1_700_000_000_000
        self.ips = {i: self.ip(i) for i in range(n)}
        self.ports = dict.fromkeys(range(n), 20880)
        for i in range(n):
            self._set(i)
        self.builder.apply(ListingComplete("bench"))

    @staticmethod
    def ip(i: int, base: int = 10) -> str:
        return f"{base}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"

    @staticmethod
    def iface(i: int) -> str:
        return f"org.bench.svc{i:05d}.Service"

    def _set(self, i: int, **extra: str) -> None:
        url = provider_url(
            "dubbo", self.ips[i], self.ports[i], self.iface(i), application=f"app{i}", extra=extra
        )
        event = ProvidersChanged("bench", "/dubbo", self.iface(i), frozenset({node_name(url)}))
        self.builder.apply(event)

    def restart(self, i: int) -> None:
        """The provider of interface ``i`` restarts: same endpoint, new timestamp and pid."""
        self.stamp += 1
        self._set(i, timestamp=str(self.stamp), pid=str(self.stamp % 65536))

    def move(self, i: int) -> None:
        """The provider of interface ``i`` restarts on another port: a real endpoint change.

        (A new IP would be a new per-workload entry plus, after the grace period, the deletion
        of the old one: two writes for two objects.)
        """
        self.ports[i] += 1
        self._set(i)

    def intent(self) -> MeshIntent:
        return self.renderer.render(self.builder.snapshot())


@dataclass
class Phase:
    name: str
    seconds: float
    writes: int
    requests: int


async def _wait(predicate: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark phase did not settle")
        await anyio.sleep(0.01)


async def _ours(settings: K8sSettings, n: int, restarts: int) -> tuple[list[Phase], int, int]:
    reg = Registry(n, settings.namespace)
    cell: LatestValue[MeshIntent] = LatestValue()
    obs = CountingObserver()
    phases: list[Phase] = []

    def mark(name: str, t0: float, w0: int, r0: int) -> None:
        phases.append(
            Phase(
                name,
                time.perf_counter() - t0,
                obs.write_requests - w0,
                sum(obs.requests.values()) - r0,
            )
        )

    async def settle(within: float) -> None:
        passes = obs.passes
        await _wait(lambda: obs.passes > passes and obs.last_in_step, within)

    async with anyio.create_task_group() as tg:
        await tg.start(run_kubernetes_sink, cell, settings, obs)
        await _wait(lambda: obs.is_leader, 60)
        first = reg.intent()
        t0, w0, r0 = time.perf_counter(), obs.write_requests, sum(obs.requests.values())
        cell.set(first)
        await settle(n / settings.qps * 5 + 60)
        mark("initial", t0, w0, r0)
        objects = len(first)

        t0, w0, r0 = time.perf_counter(), obs.write_requests, sum(obs.requests.values())
        for k in range(restarts):
            reg.restart(k % n)
            cell.set(reg.intent())
            await settle(60)  # every restart is seen by a reconcile pass
        mark("restarts", t0, w0, r0)

        t0, w0, r0 = time.perf_counter(), obs.write_requests, sum(obs.requests.values())
        reg.move(n // 2)
        cell.set(reg.intent())
        await settle(60)
        mark("change", t0, w0, r0)
        tg.cancel_scope.cancel()
    return phases, objects, sum(obs.requests.values())


async def _naive(settings: K8sSettings, n: int, restarts: int) -> tuple[list[Phase], int]:
    """dubbo2istio's strategy: per debounced interface event, GET then full PUT (POST if absent)."""
    reg = Registry(n, settings.namespace)
    obs = CountingObserver()
    client = KubeClient(settings, obs)
    res = istio_resource(Kind.SERVICE_ENTRY, settings.api_version)
    phases: list[Phase] = []

    def objects_of(intent: MeshIntent, ifaces: set[str] | None) -> Iterator[MeshObject]:
        for obj in intent.of_kind(Kind.SERVICE_ENTRY):
            if ifaces is None or any(s.interface in ifaces for s in obj.services):
                yield obj

    async def event(obj: MeshObject) -> None:
        body = desired_manifest(obj, settings)
        path = res.item(settings.namespace, obj.name)
        try:
            have = await client.call("GET", path)
            body["metadata"]["resourceVersion"] = have["metadata"]["resourceVersion"]
            await client.call("PUT", path, body=body)
        except errors.NotFound:
            await client.call("POST", res.collection(settings.namespace), body=body)

    async def run_events(objs: list[MeshObject]) -> None:
        limiter = anyio.Semaphore(settings.concurrency)

        async def one(obj: MeshObject) -> None:
            async with limiter:
                await event(obj)

        async with anyio.create_task_group() as tg:
            for obj in objs:
                tg.start_soon(one, obj)

    def mark(name: str, t0: float, r0: int) -> None:
        total = sum(obs.requests.values())
        writes = total - obs.requests["GET"]
        phases.append(Phase(name, time.perf_counter() - t0, writes - r0[1], total - r0[0]))

    def counts() -> Any:
        total = sum(obs.requests.values())
        return total, total - obs.requests["GET"]

    t0, c0 = time.perf_counter(), counts()
    await run_events(list(objects_of(reg.intent(), None)))
    mark("initial", t0, c0)
    t0, c0 = time.perf_counter(), counts()
    for k in range(restarts):
        reg.restart(k % n)
        await run_events(list(objects_of(reg.intent(), {reg.iface(k % n)})))
    mark("restarts", t0, c0)
    t0, c0 = time.perf_counter(), counts()
    reg.move(n // 2)
    await run_events(list(objects_of(reg.intent(), {reg.iface(n // 2)})))
    mark("change", t0, c0)
    client.close()
    return phases, sum(obs.requests.values())


def run(quick: bool) -> list[Figure]:
    from tests.support.kube import KubeCluster  # the same real API server as the tests

    n, restarts = (500, 100) if quick else (10_000, 1_000)
    with tempfile.TemporaryDirectory(prefix="bench-k8s-") as tmp:
        cluster = KubeCluster(Path(tmp))
        try:
            cluster.start()
            ns_ours, _ = cluster.new_namespace("bench-ours")
            ns_naive, _ = cluster.new_namespace("bench-naive")
            common: dict[str, Any] = dict(
                kubeconfig=str(cluster.admin_kubeconfig),
                qps=QPS,
                burst=int(QPS),
                registry_name="bench",
                resync_period=3600.0,
            )
            ours, objects, ours_total = anyio.run(
                _ours, K8sSettings(namespace=ns_ours, **common), n, restarts
            )
            naive, naive_total = anyio.run(
                _naive, K8sSettings(namespace=ns_naive, **common), n, restarts
            )
        finally:
            cluster.stop()
    by = {p.name: p for p in ours}
    nb = {p.name: p for p in naive}
    floor = max(objects - int(QPS), 0) / QPS  # the burst (= QPS tokens) goes out at once
    size = f"{objects} ServiceEntries"
    steady_ours = by["restarts"].requests + by["change"].requests
    steady_naive = nb["restarts"].requests + nb["change"].requests
    return [
        Figure(
            name=f"k8s initial apply, {size}",
            value=by["initial"].seconds,
            unit="s",
            floor=floor,
            floor_name=f"(objects - burst) / rate limit ({QPS:.0f} QPS, burst {QPS:.0f})",
            target=f"writes == objects ({by['initial'].writes} writes); <= 1.5x floor",
            ok=by["initial"].writes == objects and by["initial"].seconds <= 1.5 * floor + 5,
        ),
        Figure(
            name=f"k8s writes for {restarts} provider restarts (timestamp/pid only)",
            value=by["restarts"].writes,
            unit="writes",
            floor=0,
            floor_name="nothing changed",
            target=f"== 0 (naive baseline: {nb['restarts'].writes} writes)",
            ok=by["restarts"].writes == 0,
        ),
        Figure(
            name="k8s writes for one real endpoint change",
            value=by["change"].writes,
            unit="writes",
            floor=1,
            floor_name="one object changed",
            target="== 1",
            ok=by["change"].writes == 1,
        ),
        Figure(
            name=f"k8s API requests for {restarts} restarts + 1 change, naive / ours",
            value=steady_naive / max(steady_ours, 1),
            unit="x",
            floor=1.0,
            floor_name="same request count",
            target=f"informational: ours {steady_ours} requests (lease renewals, watch renewals "
            f"and the 1 write), naive {steady_naive}",
            ok=steady_naive > steady_ours,
        ),
        Figure(
            name=f"k8s API requests, naive GET+PUT baseline / ours ({size}, {restarts} restarts, "
            "1 change)",
            value=naive_total / max(ours_total, 1),
            unit="x",
            floor=1.0,
            floor_name="same request count",
            target=f"informational: ours {ours_total} requests in all (preflight, lists, "
            f"watches, lease renewals included), naive {naive_total}",
            ok=naive_total > ours_total,
        ),
    ]
