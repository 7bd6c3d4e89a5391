"""Application-level discovery payloads (Curator ServiceInstance, MetadataInfo, mapping)."""

from __future__ import annotations

import json

import pytest

from dubbomesh.dubbo.instances import (
    InstanceError,
    instance_endpoints,
    parse_instance,
    parse_mapping,
    parse_metadata,
)
from dubbomesh.dubbo.model import ServiceId, Source


def curator(
    address: str = "30.221.146.35",
    port: int = 20880,
    *,
    cls: str = "org.apache.dubbo.registry.zookeeper.ZookeeperInstance",
    enabled: bool | None = None,
    endpoints: list[dict[str, object]] | None = None,
    revision: str = "871fbc9cb2730caea9b0d858852d5ede",
    storage: str = "remote",
) -> bytes:
    """A payload shaped like the ones Dubbo 3 writes under /services/<app>/<ip:port>."""
    metadata = {
        "dubbo.endpoints": json.dumps(
            endpoints
            if endpoints is not None
            else [{"port": 20880, "protocol": "dubbo"}, {"port": 50051, "protocol": "tri"}]
        ),
        "dubbo.metadata.revision": revision,
        "dubbo.metadata.storage-type": storage,
        "timestamp": "1674960780647",
    }
    doc: dict[str, object] = {
        "name": "first-dubbo-provider",
        "id": f"{address}:{port}",
        "address": address,
        "port": port,
        "payload": {
            "@class": cls,
            "id": f"{address}:{port}",
            "name": "first-dubbo-provider",
            "metadata": metadata,
        },
        "registrationTimeUTC": 1674960781893,
        "serviceType": "DYNAMIC",
    }
    if enabled is not None:
        doc["enabled"] = enabled
    return json.dumps(doc).encode()


METADATA = json.dumps(
    {
        "app": "first-dubbo-provider",
        "revision": "871fbc9cb2730caea9b0d858852d5ede",
        "services": {
            "grp/com.foo.Bar:1.0:dubbo": {
                "name": "com.foo.Bar",
                "group": "grp",
                "version": "1.0",
                "protocol": "dubbo",
                "port": 20880,
                "path": "com.foo.Bar",
                "params": {"weight": "30", "timestamp": "1", "application": "first-dubbo-provider"},
            },
            "com.foo.Baz:tri": {"name": "com.foo.Baz", "protocol": "tri", "port": 0},
            "com.foo.Qux:rest": {"name": "com.foo.Qux", "protocol": "rest", "port": 8080},
        },
    }
).encode()


def test_parse_curator_instance() -> None:
    inst = parse_instance("first-dubbo-provider", curator())
    assert inst.address == "30.221.146.35"
    assert inst.port == 20880
    assert inst.revision == "871fbc9cb2730caea9b0d858852d5ede"
    assert inst.storage_type == "remote"
    assert inst.endpoints == (("dubbo", 20880), ("tri", 50051))


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (
            curator(cls="org.springframework.cloud.zookeeper.discovery.ZookeeperInstance"),
            "not-dubbo",
        ),
        (curator(enabled=False), "disabled"),
        (b"{not json", "bad-json"),
        (b"[1,2]", "bad-json"),
        (curator(address=""), "bad-address"),
        (curator(port=0), "bad-address"),
    ],
)
def test_rejected_payloads(payload: bytes, code: str) -> None:
    with pytest.raises(InstanceError) as info:
        parse_instance("app", payload)
    assert info.value.code == code


def test_payload_without_class_but_dubbo_metadata_is_dubbo() -> None:
    doc = json.loads(curator())
    del doc["payload"]["@class"]
    assert parse_instance("a", json.dumps(doc).encode()).port == 20880


def test_metadata_and_port_rule() -> None:
    meta = parse_metadata(METADATA)
    assert [s.id for s in meta.services] == [
        ServiceId("com.foo.Bar", "grp", "1.0"),
        ServiceId("com.foo.Baz"),
        ServiceId("com.foo.Qux"),
    ]
    inst = parse_instance("first-dubbo-provider", curator())
    eps = instance_endpoints(inst, meta.services, registry="zk", volatile=frozenset({"timestamp"}))
    ports = {(e.service.interface, e.protocol): e.port for e in eps}
    # dubbo.endpoints entry for the protocol, else ServiceInfo.port if > 0, else instance port
    assert ports == {
        ("com.foo.Bar", "dubbo"): 20880,
        ("com.foo.Baz", "tri"): 50051,
        ("com.foo.Qux", "rest"): 8080,
    }
    bar = next(e for e in eps if e.service.interface == "com.foo.Bar")
    assert bar.weight == 30
    assert bar.source is Source.INSTANCE
    assert "timestamp" not in dict(bar.params)


def test_mapping() -> None:
    assert parse_mapping(b"app1, app2,,app1") == frozenset({"app1", "app2"})
    assert parse_mapping(None) == frozenset()
