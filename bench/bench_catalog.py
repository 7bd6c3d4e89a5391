"""Catalog builder and renderer costs: cold load, full render, and one provider change among N.

Targets (issue 2): a one-node change rebuilds one service (not the catalog) and 10,000 services
render incrementally in well under a second; cold load and full render of 100,000 endpoints an
order of magnitude below the first implementation (25.8 s and 20.7 s). Floors: the unavoidable
work for one change, i.e. decoding one node name plus hashing one service (builder), and rendering
one service alone (renderer); for the cold load, decoding every name alone (the decoder's share).
Synthetic registry: N interfaces x 10 providers with realistic Dubbo 3 params, in two layouts:
every provider on its own IP (100,000 per-workload objects: the worst case), and the realistic one
where a provider process serves 100 interfaces (1,000 addresses). As the agent does
(``dubbomesh.agent.pipeline``), the heap is frozen out of the cyclic collector once the first
complete catalog exists, before the first render.
"""

from __future__ import annotations

import gc
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


def _node(i: int, h: int, weight: int = 100, shared: bool = False) -> tuple[str, str]:
    iface = f"com.example.svc{i // 100}.Service{i}"
    a = i // 100 if shared else i  # shared: one process (address) serves 100 interfaces
    url = (
        f"dubbo://10.{h}.{(a // 250) % 250}.{a % 250 + 1}:20880/{iface}?anyhost=true"
        f"&application=app{i // 100}&deprecated=false&dubbo=2.0.2&dynamic=true&generic=false"
        f"&interface={iface}&methods=sayHello,sayGoodbye,ping&pid=4242&release=3.2.0"
        f"&side=provider&timestamp=1700000000000&version=1.0.0&weight={weight}"
    )
    return iface, encode_node(parse_url(url))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _dirs(n: int, shared: bool) -> dict[str, list[str]]:
    dirs: dict[str, list[str]] = {}
    for i in range(n):
        for h in range(HOSTS):
            iface, name = _node(i, h, shared=shared)
            dirs.setdefault(iface, []).append(name)
    return dirs


def _load(dirs: dict[str, list[str]]) -> tuple[CatalogBuilder, Catalog, float]:
    builder = CatalogBuilder(["bench"])

    def load() -> None:
        for iface, names in dirs.items():
            builder.apply(ProvidersChanged("bench", "dubbo", iface, frozenset(names)))
        builder.apply(ListingComplete("bench"))
        builder.snapshot()

    cold = _timed(load)
    return builder, builder.snapshot(), cold


def _layout(n: int, shared: bool) -> dict[str, float]:
    dirs = _dirs(n, shared)
    names = [name for group in dirs.values() for name in group]
    decode = _timed(lambda: [decode_node(name) for name in names])
    _, first, cold = _load(dirs)
    gc.freeze()  # what the pipeline does once the first complete catalog is published
    try:
        renderer = Renderer(MeshSettings())
        full = _timed(lambda: renderer.render(first))
        objects = len(renderer.render(first))
    finally:
        gc.unfreeze()
    return {"decode": decode, "cold": cold, "full": full, "objects": objects}


def run(quick: bool) -> list[Figure]:
    n = 1_000 if quick else 10_000
    size = f"{n} services x {HOSTS} providers"
    worst, real = _layout(n, shared=False), _layout(n, shared=True)
    dirs = _dirs(n, shared=False)
    builder, first, _ = _load(dirs)
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
    renderer.render(first)
    incremental = _timed(lambda: renderer.render(second))
    one = Renderer(MeshSettings())
    floor_render = _timed(lambda: one.render(Catalog.create([service])))
    decoder = "decode every name alone (the query memo decodes one name per parameter set)"
    addresses = f"{n // 100 * HOSTS:,} provider addresses"
    return [
        Figure(
            name=f"catalog cold load ({size}, one IP per provider)",
            value=worst["cold"],
            unit="s",
            floor=worst["decode"],
            floor_name=decoder,
            target="<= 2.6 s (a tenth of the first implementation's 25.8 s)",
            ok=worst["cold"] <= 2.6,
        ),
        Figure(
            name=f"catalog cold load ({size}, {addresses})",
            value=real["cold"],
            unit="s",
            floor=real["decode"],
            floor_name=decoder,
            target="informational",
            ok=None,
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
            name=f"mesh full render ({size}, one IP per provider: {worst['objects']:.0f} objects)",
            value=worst["full"],
            unit="s",
            floor=None,
            floor_name="",
            target="<= 2.1 s (a tenth of the first implementation's 20.7 s)",
            ok=worst["full"] <= 2.1,
        ),
        Figure(
            name=f"mesh full render ({size}, {addresses}: {real['objects']:.0f} objects)",
            value=real["full"],
            unit="s",
            floor=None,
            floor_name="",
            target="informational",
            ok=None,
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
