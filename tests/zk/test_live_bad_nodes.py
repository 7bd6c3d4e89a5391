"""One bad directory is reported and skipped; the rest of the registry keeps working."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.dubbo.registry import BadNode
from tests.support.zookeeper import child_name, live_mirror, register_provider, settings_for

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

GOOD = "org.example.GoodService"


def bad_paths(events: list[object]) -> dict[str, str]:
    return {e.path: e.reason for e in events if isinstance(e, BadNode)}


async def test_permission_denied_directory(zk: KazooClient, zk_server: LocalZooKeeper) -> None:
    good = register_provider(zk, GOOD, "10.0.0.1", 20880)
    secret = "/dubbo/org.example.SecretService/providers"
    zk.create("/dubbo/org.example.SecretService", makepath=True)
    zk.create(secret, acl=[make_digest_acl("owner", "pw", all=True)])
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        assert bad_paths(m.events) == {secret: "permission denied"}
        assert m.observer.bad == [(secret, "permission denied")]
        assert m.providers(GOOD) == {child_name(good)}
        later = register_provider(zk, GOOD, "10.0.0.2", 20880)
        want = {child_name(good), child_name(later)}
        await m.wait(lambda: m.providers(GOOD) == want, what="still watching the rest")


async def test_directory_larger_than_the_limit(zk: KazooClient, zk_server: LocalZooKeeper) -> None:
    big = "org.example.HugeService"
    for i in range(20):
        register_provider(zk, big, f"10.2.0.{i}", 20880)
    good = register_provider(zk, GOOD, "10.0.0.1", 20880)
    settings = settings_for(zk_server.connect_string, max_directory_bytes=4000)
    async with live_mirror(settings) as m:
        reasons = bad_paths(m.events)
        assert list(reasons) == [f"/dubbo/{big}/providers"]
        assert "too large" in reasons[f"/dubbo/{big}/providers"]
        assert m.providers(big) is None
        assert m.providers(GOOD) == {child_name(good)}


async def test_a_listing_beyond_the_java_client_packet_limit_is_read(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    # A Java client fails on this directory ("Packet len is out of range", jute.maxbuffer 1 MiB);
    # kazoo reads any length, and the default guard (8 MiB of names) lets it through.
    big = "org.example.WideService"
    zk.ensure_path(f"/dubbo/{big}/providers")
    pad = "x" * 900
    results = [
        zk.create_async(f"/dubbo/{big}/providers/dubbo%3A%2F%2F10.3.{i // 250}.{i % 250}%3A1{pad}")
        for i in range(1200)
    ]
    for r in results:
        r.get()
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        listed = m.providers(big)
        assert listed is not None
        assert len(listed) == 1200
        assert sum(map(len, listed)) > 1 << 20
        assert bad_paths(m.events) == {}


async def test_garbage_names_do_not_stop_the_mirror(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    good = register_provider(zk, GOOD, "10.0.0.1", 20880)
    garbage = ["%9%d", "not a url", "dubbo%3A%2F%2F%3A0"]
    for name in garbage:
        zk.create(f"/dubbo/{GOOD}/providers/{name}")
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        assert m.providers(GOOD) == {child_name(good), *garbage}
        catalog = m.catalog()
        assert catalog.endpoint_count == 1  # type: ignore[attr-defined]
        assert m.builder is not None
        assert m.builder.problems()  # type: ignore[attr-defined]
