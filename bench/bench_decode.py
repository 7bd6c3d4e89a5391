"""Decoder throughput: ZooKeeper node names decoded per second on one core.

Target: at least 100,000 realistic node names per second. Floor: a bare ``unquote_plus`` of the
name plus ``str.split`` of its query over the same names, the least any decoder must do (it checks
nothing, keeps no structure). Times are process CPU time of this single-threaded process, so they
mean "one core" even on a busy machine. The names are a deterministic mix shaped like real
registries: Java 2.6/2.7/3.x dubbo and tri providers, dubbo-go (double-encoded values), IPv6,
UTF-8 application names, consumers, overrides and routers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from urllib.parse import quote_plus, unquote_plus

from bench.harness import Figure
from dubbomesh.dubbo import url as url_module
from dubbomesh.dubbo.url import decode_node

TARGET = 100_000


def _java(url: str) -> str:
    return quote_plus(url, safe="*").replace("~", "%7E")


def _go_values(values: dict[str, str]) -> str:
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted(values.items()))


def _query(values: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(values.items()))


def names(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` distinct (directory, node name) pairs with a realistic mix."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for n in range(count):
        svc = f"com.acme.{rng.choice(['order', 'user', 'pay', 'stock', 'geo'])}.Service{n % 997}"
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        ts = str(1_600_000_000_000 + rng.randrange(10**11))
        common = {
            "application": f"app-{n % 211}",
            "interface": svc,
            "methods": ",".join(rng.sample(["create", "get", "list", "update", "delete"], 3)),
            "pid": str(rng.randrange(1, 65535)),
            "side": "provider",
            "timestamp": ts,
        }
        kind = rng.random()
        if kind < 0.30:  # Java 2.7 provider
            extra = {"anyhost": "true", "deprecated": "false", "dubbo": "2.0.2", "dynamic": "true"}
            extra |= {
                "generic": "false",
                "release": "2.7.15",
                "revision": "1.4.2",
                "timeout": "3000",
            }
            name = _java(f"dubbo://{ip}:20880/{svc}?{_query(common | extra)}")
        elif kind < 0.55:  # Java 3 dubbo provider
            extra = {"dubbo": "2.0.2", "release": "3.2.9", "service-name-mapping": "true"}
            extra |= {
                "prefer.serialization": "fastjson2,hessian2",
                "group": "g1",
                "version": "1.0.0",
            }
            name = _java(f"dubbo://{ip}:20880/{svc}?{_query(common | extra)}")
        elif kind < 0.70:  # Java 3 triple
            extra = {"release": "3.3.0", "serialization": "protobuf", "version": "2.0.0"}
            name = _java(f"tri://{ip}:50051/{svc}?{_query(common | extra)}")
        elif kind < 0.78:  # Java 2.6 with default.* keys
            extra = {"default.retries": "0", "default.timeout": "5000", "dubbo": "2.6.2"}
            name = _java(f"dubbo://{ip}:20880/{svc}?{_query(common | extra)}")
        elif kind < 0.86:  # dubbo-go 1.5: values encoded twice, seconds timestamps
            extra = {"module": "dubbogo user-info server", "release": "dubbo-golang-1.5.7"}
            values = common | extra | {"timestamp": ts[:10]}
            name = quote_plus(f"dubbo://{ip}:20000/{svc}?{_go_values(values)}")
        elif kind < 0.90:  # IPv6 provider
            host = f"[2001:db8:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}]"
            name = _java(f"dubbo://{host}:20880/{svc}?{_query(common | {'release': '3.2.4'})}")
        elif kind < 0.94:  # UTF-8 application name
            extra = {"application": f"订单中心-{n % 13}", "owner": "张三"}
            name = _java(f"dubbo://{ip}:20880/{svc}?{_query(common | extra)}")
        elif kind < 0.97:  # consumer
            extra = {"category": "consumers", "check": "false", "side": "consumer"}
            name = _java(f"consumer://{ip}/{svc}?{_query(common | extra)}")
        else:  # override / router
            rule = _java(f"host = {ip} => host = 10.0.0.1")
            name = _java(
                f"condition://0.0.0.0/{svc}?category=routers&dynamic=false&enabled=true"
                f"&force=false&priority=0&rule={rule}&runtime=false"
                if rng.random() < 0.5
                else f"override://{ip}:20880/{svc}?category=configurators&dynamic=false"
                f"&enabled=true&weight={rng.randrange(1, 400)}"
            )
        out.append((svc, name))
    return out


def _rates(
    fns: list[Callable[[list[tuple[str, str]]], object]], data: list[tuple[str, str]], rounds: int
) -> list[float]:
    """Best names per CPU-second of each function; rounds interleave the functions so that all
    of them see the same machine load."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.process_time()
            fn(data)
            best[i] = min(best[i], time.process_time() - start)
    return [len(data) / max(b, 1e-9) for b in best]


def _decode_all(data: list[tuple[str, str]]) -> object:
    for directory, name in data:
        decode_node(name, directory=directory)
    return None


def _reference_all(data: list[tuple[str, str]]) -> object:
    general = url_module._decode_node_general
    for directory, name in data:
        general(name, directory)
    return None


def _floor_all(data: list[tuple[str, str]]) -> object:
    for _directory, name in data:
        unquote_plus(name).partition("?")[2].split("&")
    return None


def run(quick: bool) -> list[Figure]:
    data = names(400 if quick else 5000)
    rounds = 2 if quick else 7
    errors = sum(decode_node(n, directory=d).error is not None for d, n in data)
    if errors:
        raise AssertionError(f"{errors} benchmark names failed to decode")
    floor, fast, reference = _rates([_floor_all, _decode_all, _reference_all], data, rounds)
    floor_name = "bare unquote_plus + str.split"
    return [
        Figure(
            name=f"decode_node, {len(data)} mixed registry names",
            value=fast,
            unit="names/s",
            floor=floor,
            floor_name=floor_name,
            target=f">= {TARGET:,} names/s on one core",
            ok=fast >= TARGET,
        ),
        Figure(
            name="reference path (decode whole name, then parse)",
            value=reference,
            unit="names/s",
            floor=floor,
            floor_name=floor_name,
            target="informational: what the split-first fast path saves",
            ok=None,
        ),
    ]
