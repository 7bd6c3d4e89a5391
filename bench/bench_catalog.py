"""Catalog builder and renderer costs: cold load, and one provider change among N services.

Targets (issue 2): a one-node change rebuilds one service (not the catalog) and 10,000 services
render incrementally in well under a second. Floors: the unavoidable work for one change, i.e.
decoding one node name plus hashing one service (builder), and rendering one service alone
(renderer). Synthetic registry: N interfaces x 10 providers with realistic Dubbo 3 params, every
provider on its own IP (the worst case for per-workload objects).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench.harness import Figure
from dubbomesh.dubbo.builder import CatalogBuilder
from dubbomesh.dubbo.model import Catalog, Service
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged
from dubbomesh.dubbo.url import decode_node, encode_node, parse_url
from dubbomesh.mesh.render import Renderer
from dubbomesh.mesh.settings import MeshSettings

HOSTS = 10


def _node(i: int, h: int, weight: int = 100) -> tuple[str, str]:
    iface = f"com.example.svc{i // 100}.Service{i}"
    url = (
        f"dubbo://10.{h}.{(i // 250) % 250}.{i % 250 + 1}:20880/{iface}?anyhost=true"
        f"&application=app{i // 100}&deprecated=false&dubbo=2.0.2&dynamic=true&generic=false"
        f"&interface={iface}&methods=sayHello,sayGoodbye,ping&pid=4242&release=3.2.0"
        f"&side=provider&timestamp=1700000000000&version=1.0.0&weight={weight}"
    )
    return iface, encode_node(parse_url(url))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(quick: bool) -> list[Figure]:
    n = 1_000 if quick else 10_000
    dirs: dict[str, list[str]] = {}
    for i in range(n):
        for h in range(HOSTS):
            iface, name = _node(i, h)
            dirs.setdefault(iface, []).append(name)
    builder = CatalogBuilder(["bench"])

    def load() -> None:
        for iface, names in dirs.items():
            builder.apply(ProvidersChanged("bench", "dubbo", iface, frozenset(names)))
        builder.apply(ListingComplete("bench"))
        builder.snapshot()

    cold = _timed(load)
    first = builder.snapshot()
    iface = next(iter(dirs))
    names = list(dirs[iface])

    def one_change() -> None:
        builder.apply(ProvidersChanged("bench", "dubbo", iface, frozenset(names)))
        builder.snapshot()

    samples = []
    for k in range(5):  # median of 5: one sample may include a full GC pass of the process
        names[0] = _node(0, 0, weight=50 + k)[1]
        samples.append(_timed(one_change))
    change = statistics.median(samples)
    second = builder.snapshot()
    service = next(iter(second))
    floor_build = _timed(
        lambda: (decode_node(names[0]), Service.create(service.id, service.endpoints))
    )

    renderer = Renderer(MeshSettings())
    full = _timed(lambda: renderer.render(first))
    incremental = _timed(lambda: renderer.render(second))
    one = Renderer(MeshSettings())
    floor_render = _timed(lambda: one.render(Catalog.create([service])))
    size = f"{n} services x {HOSTS} providers"
    return [
        Figure(
            name=f"catalog cold load ({size})",
            value=cold,
            unit="s",
            floor=0.0,
            floor_name="(no floor measured)",
            target="informational",
            ok=True,
        ),
        Figure(
            name=f"catalog snapshot after one provider change, median of 5 ({size})",
            value=change,
            unit="s",
            floor=floor_build,
            floor_name="decode one node + hash one service",
            target=f"rebuilds 1 service (rebuilt {builder.stats.rebuilt_last}); < 0.1 s",
            ok=builder.stats.rebuilt_last == 1 and change < 0.1,
        ),
        Figure(
            name=f"mesh full render ({size})",
            value=full,
            unit="s",
            floor=0.0,
            floor_name="(no floor measured)",
            target="informational",
            ok=True,
        ),
        Figure(
            name=f"mesh incremental render, one service changed ({size})",
            value=incremental,
            unit="s",
            floor=floor_render,
            floor_name="render that one service alone",
            target="< 0.5 s",
            ok=incremental < 0.5,
        ),
    ]
