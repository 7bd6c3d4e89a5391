"""Snapshots: encode once per content version, re-encode only what changed, selectors resolved."""

from __future__ import annotations

from dubbomesh.xds.envoy import cluster_name
from dubbomesh.xds.snapshot import LOG_LIMIT, SnapshotBuilder
from dubbomesh.xds.types import ResourceType as RT
from tests.xds.helpers import intent, many, service_entry, workload_entry

CLA = RT.ENDPOINT


def test_unchanged_objects_keep_their_encodings_and_no_op_keeps_the_generation() -> None:
    b = SnapshotBuilder()
    objs = many(20)
    first = b.build(intent(*objs))
    objs[7] = service_entry("svc7", [("10.7.7.7", 1)])
    second = b.build(intent(*objs))
    assert second.gen == first.gen + 1
    for rt in (RT.SERVICE_ENTRY, RT.CLUSTER, RT.ENDPOINT, RT.LISTENER, RT.ROUTE):
        old, new = first.get(rt).resources, second.get(rt).resources
        same = [n for n in new if new[n] is old.get(n)]
        assert len(same) >= len(new) - 1, rt  # shared objects, not re-encoded copies
    assert second.get(CLA).touched_since(first.gen) == {cluster_name("svc7.dubbo.mesh", 50051)}
    assert second.get(RT.CLUSTER).touched_since(first.gen) == frozenset()
    assert second.get(RT.CLUSTER).version == first.get(RT.CLUSTER).version
    assert second.get(CLA).version != first.get(CLA).version
    # Rebuilding the same content (new objects, same versions) changes nothing.
    third = b.build(
        intent(*[service_entry("svc7", [("10.7.7.7", 1)]) if o.name == "svc7" else o for o in objs])
    )
    assert third.gen == second.gen


def test_type_versions_depend_only_on_content() -> None:
    a = SnapshotBuilder()
    a.build(intent(*many(5)))
    via_history = a.build(intent(*many(3)))
    direct = SnapshotBuilder().build(intent(*many(3)))
    for rt in RT:
        assert via_history.get(rt).version == direct.get(rt).version, rt
        assert set(via_history.get(rt).resources) == set(direct.get(rt).resources)


def test_removal_is_logged_and_the_log_is_bounded() -> None:
    b = SnapshotBuilder()
    objs = many(2)
    first = b.build(intent(*objs))
    second = b.build(intent(objs[0]))
    assert second.get(CLA).touched_since(first.gen) == {cluster_name("svc1.dubbo.mesh", 50051)}
    for i in range(LOG_LIMIT + 5):
        last = b.build(intent(service_entry("svc0", [(f"10.0.{i // 200}.{i % 200 + 1}", 1)])))
    assert last.get(CLA).touched_since(first.gen) is None  # too old: caller resends in full
    assert last.get(CLA).touched_since(last.gen - 1) == {cluster_name("svc0.dubbo.mesh", 50051)}


def test_workload_selector_resolves_against_workload_entries() -> None:
    b = SnapshotBuilder()
    se = service_entry("greeter", selector=(("app", "greeter"),))
    w1 = workload_entry("greeter-1", "10.0.0.1", {"app": "greeter", "v": "1"})
    w2 = workload_entry("greeter-2", "10.0.0.2", {"app": "greeter"})
    other = workload_entry("billing-1", "10.0.0.3", {"app": "billing"})
    elsewhere = workload_entry("greeter-9", "10.0.0.9", {"app": "greeter"}, ns="other")
    name = cluster_name("greeter.dubbo.mesh", 50051)

    def addresses(snapshot: object) -> list[str]:
        from envoy.config.endpoint.v3 import endpoint_pb2
        from google.protobuf import any_pb2

        cla = endpoint_pb2.ClusterLoadAssignment()
        any_pb2.Any.FromString(snapshot.get(CLA).resources[name].any_bytes).Unpack(cla)  # type: ignore[attr-defined]
        return sorted(
            e.endpoint.address.socket_address.address
            for loc in cla.endpoints
            for e in loc.lb_endpoints
        )

    s1 = b.build(intent(se, w1, w2, other, elsewhere))
    assert addresses(s1) == ["10.0.0.1", "10.0.0.2"]
    assert set(s1.get(RT.WORKLOAD_ENTRY).resources) == {
        "dubbo/greeter-1",
        "dubbo/greeter-2",
        "dubbo/billing-1",
        "other/greeter-9",
    }
    # A WorkloadEntry change alone re-resolves the selecting ServiceEntry.
    s2 = b.build(intent(se, w1, other, elsewhere))
    assert addresses(s2) == ["10.0.0.1"]
    assert s2.get(CLA).touched_since(s1.gen) == {name}
    w3 = workload_entry("greeter-3", "10.0.0.4", {"app": "greeter"})
    s3 = b.build(intent(se, w1, w3, other, elsewhere))
    assert addresses(s3) == ["10.0.0.1", "10.0.0.4"]
