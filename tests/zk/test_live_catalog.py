"""End to end on a real ZooKeeper: znodes -> mirror -> the real catalog builder.

Overrides apply and un-apply, YAML rules reach the builder, Dubbo 3 application-level instances
appear, and an endpoint registered both ways appears once.
"""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.dubbo.model import Catalog, ServiceId, Source
from dubbomesh.dubbo.registry import ConfigRuleChanged
from dubbomesh.zk.seed import DEMO_INSTANCE_APP, instance_payload, metadata_info, seed_demo
from tests.support.zookeeper import (
    LiveMirror,
    live_mirror,
    register_override,
    register_provider,
    settings_for,
    unregister,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

IFACE = "org.example.OverrideService"


def endpoints(m: LiveMirror, sid: ServiceId) -> dict[tuple[str, str, int], int]:
    """(protocol, address, port) -> weight in the current catalog."""
    catalog = m.catalog()
    assert isinstance(catalog, Catalog)
    service = catalog.get(sid)
    if service is None:
        return {}
    return {(e.protocol, e.address, e.port): e.weight for e in service.endpoints}


async def test_demo_seed_becomes_the_expected_catalog(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    seed_demo(zk)
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        catalog = m.catalog()
        assert isinstance(catalog, Catalog)
        assert catalog.complete
        greet = ServiceId("org.apache.dubbo.demo.GreetingService")
        assert set(endpoints(m, greet)) == {
            ("dubbo", "127.0.0.1", 20880),
            ("tri", "127.0.0.1", 50051),
        }
        demo = ServiceId("org.apache.dubbo.demo.DemoService", "g1", "1.0.0")
        assert set(endpoints(m, demo)) == {("dubbo", "127.0.0.2", 20881)}  # .3 disabled
        app = catalog.get(ServiceId("org.apache.dubbo.demo.AppService"))
        assert app is not None
        assert [(e.protocol, e.address, e.port, e.source) for e in app.endpoints] == [
            ("tri", "127.0.0.4", 50052, Source.INSTANCE)
        ]


async def test_overrides_apply_and_unapply(zk: KazooClient, zk_server: LocalZooKeeper) -> None:
    sid = ServiceId(IFACE)
    register_provider(zk, IFACE, "10.0.0.1", 20880)
    register_provider(zk, IFACE, "10.0.0.2", 20880)
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        both = {("dubbo", "10.0.0.1", 20880): 100, ("dubbo", "10.0.0.2", 20880): 100}
        assert endpoints(m, sid) == both
        off = register_override(zk, IFACE, "10.0.0.2", 20880, disabled="true")
        await m.wait(lambda: set(endpoints(m, sid)) == {("dubbo", "10.0.0.1", 20880)}, what="off")
        unregister(zk, off)
        await m.wait(lambda: endpoints(m, sid) == both, what="override removed")
        heavy = register_override(zk, IFACE, "0.0.0.0", None, weight="7")
        await m.wait(lambda: set(endpoints(m, sid).values()) == {7}, what="global weight override")
        unregister(zk, heavy)
        await m.wait(lambda: endpoints(m, sid) == both, what="weight override removed")


async def test_yaml_rules_reach_the_builder(zk: KazooClient, zk_server: LocalZooKeeper) -> None:
    path = "/dubbo/config/dubbo/demo-provider.configurators"
    async with live_mirror(settings_for(zk_server.connect_string)) as m:

        def rule() -> ConfigRuleChanged | None:
            found = [e for e in m.events if isinstance(e, ConfigRuleChanged)]
            return found[-1] if found else None

        doc = b"configVersion: v2.7\nscope: application\nkey: demo-provider\nconfigs:\n"
        doc += b"  - addresses: ['10.0.0.1:20880']\n    side: provider\n"
        doc += b"    parameters: {weight: 1000}\n"
        zk.create(path, doc, makepath=True)
        await m.wait(lambda: (r := rule()) is not None and r.document is not None, what="rule")
        r = rule()
        assert r is not None
        assert isinstance(r.document, dict)
        assert r.document["configs"][0]["parameters"] == {"weight": 1000}
        zk.set(path, b"configs: [unterminated")
        await m.wait(lambda: (r := rule()) is not None and r.error != "", what="bad YAML")
        zk.delete(path)
        await m.wait(
            lambda: (r := rule()) is not None and r.document is None and r.error == "",
            what="rule deleted",
        )


async def test_application_level_instances_appear_and_merge(
    zk: KazooClient, zk_server: LocalZooKeeper
) -> None:
    iface = "org.example.AppLevelService"
    sid = ServiceId(iface)
    revision = "rev1"
    zk.create(f"/dubbo/mapping/{iface}", DEMO_INSTANCE_APP.encode(), makepath=True)
    zk.create(
        f"/dubbo/metadata/{DEMO_INSTANCE_APP}/{revision}",
        metadata_info(DEMO_INSTANCE_APP, revision, {iface: ("tri", 50051)}),
        makepath=True,
    )
    async with live_mirror(settings_for(zk_server.connect_string)) as m:
        assert endpoints(m, sid) == {}
        base = f"/services/{DEMO_INSTANCE_APP}"
        payload = instance_payload(DEMO_INSTANCE_APP, "10.1.0.1", 20880, {"tri": 50051}, revision)
        zk.create(f"{base}/10.1.0.1:20880", payload, makepath=True, ephemeral=True)
        await m.wait(lambda: set(endpoints(m, sid)) == {("tri", "10.1.0.1", 50051)}, what="one")
        second = instance_payload(DEMO_INSTANCE_APP, "10.1.0.2", 20880, {"tri": 50051}, revision)
        zk.create(f"{base}/10.1.0.2:20880", second, ephemeral=True)
        want = {("tri", "10.1.0.1", 50051), ("tri", "10.1.0.2", 50051)}
        await m.wait(lambda: set(endpoints(m, sid)) == want, what="two instances")
        # the same endpoint also registered at interface level: still one endpoint
        register_provider(zk, iface, "10.1.0.1", 50051, protocol="tri")
        await m.wait(
            lambda: any(
                s.id == sid and any(e.source is Source.INTERFACE for e in s.endpoints)
                for s in m.catalog()  # type: ignore[attr-defined]
            ),
            what="interface-level record",
        )
        assert set(endpoints(m, sid)) == want
        zk.delete(f"{base}/10.1.0.2:20880")
        await m.wait(
            lambda: set(endpoints(m, sid)) == {("tri", "10.1.0.1", 50051)}, what="instance gone"
        )
