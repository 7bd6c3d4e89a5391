"""The sans-IO mirror: read results in, full-state events out, only differences after the first
complete listing, and nothing at all before it."""

from __future__ import annotations

from dubbomesh.dubbo.registry import (
    BadNode,
    ConfigRuleChanged,
    DirectoryRemoved,
    InstancesChanged,
    MappingChanged,
    MetadataChanged,
    ProvidersChanged,
)
from dubbomesh.zk.mirror import Mirror
from dubbomesh.zk.paths import Kind, Node, PathMap

PM = PathMap(("/dubbo",), "/services", True)
ROOT = Node(Kind.ROOT, "/dubbo", "/dubbo")
SERVICES = Node(Kind.SERVICES, "/services", "/services")


def mirror(limit: int = 1 << 20) -> Mirror:
    return Mirror("r", PM, max_directory_bytes=limit)


def providers(d: str) -> Node:
    return Node(Kind.PROVIDERS, f"/dubbo/{d}/providers", "/dubbo", d)


def listed(m: Mirror, names: list[str]) -> list[Node]:
    return m.on_children(ROOT, names, full=True)


def test_nothing_is_published_before_the_first_complete_listing() -> None:
    m = mirror()
    reads = listed(m, ["a", "config"])
    assert {n.path for n in reads} == {"/dubbo/a/providers", "/dubbo/a/configurators"}
    m.on_children(providers("a"), ["p1"], full=True)
    m.on_children(providers("a"), ["p1", "p2"], full=True)
    assert m.take_events() == []
    held = m.complete()
    assert held == [ProvidersChanged("r", "/dubbo", "a", frozenset({"p1", "p2"}))]


def test_a_relist_with_the_same_content_publishes_nothing() -> None:
    m = mirror()
    listed(m, ["a"])
    m.on_children(providers("a"), ["p1"], full=True)
    m.complete()
    listed(m, ["a"])
    m.on_children(providers("a"), ["p1"], full=True)
    assert m.complete() == []
    m.on_children(providers("a"), ["p2"], full=False)
    assert m.take_events() == [ProvidersChanged("r", "/dubbo", "a", frozenset({"p2"}))]


def test_a_leaf_listed_in_another_order_is_unchanged_any_other_set_is_not() -> None:
    m = mirror()
    listed(m, ["a"])
    names = [f"dubbo%3A%2F%2F10.0.0.{i}%3A20880%2Fa%3Fx%3D{i}" for i in range(50)]
    m.on_children(providers("a"), names, full=True)
    m.complete()
    m.on_children(providers("a"), list(reversed(names)), full=True)
    m.on_children(providers("a"), names[25:] + names[:25], full=True)
    assert m.take_events() == []
    for changed in (names[:-1], [*names, "extra"], [*names[:-1], names[-1] + "x"], []):
        m.on_children(providers("a"), changed, full=True)
        assert m.take_events() == [ProvidersChanged("r", "/dubbo", "a", frozenset(changed))]


def test_missing_providers_directory_is_an_empty_one() -> None:
    m = mirror()
    listed(m, ["a"])
    m.on_children(providers("a"), ["p1"], full=True)
    m.complete()
    m.on_children(providers("a"), None, full=False)
    assert m.take_events() == [ProvidersChanged("r", "/dubbo", "a", frozenset())]


def test_directory_removed_only_after_publishing_started() -> None:
    m = mirror()
    listed(m, ["a", "b"])
    m.on_children(providers("a"), ["p1"], full=True)
    listed(m, ["b"])  # a vanished before anything was published: no event at all for it
    assert all(getattr(e, "directory", "") != "a" for e in m.complete())
    listed(m, [])
    assert m.take_events() == [DirectoryRemoved("r", "/dubbo", "b")]


def test_only_new_children_are_read_outside_a_relist() -> None:
    m = mirror()
    listed(m, ["a"])
    reads = m.on_children(ROOT, ["a", "b"], full=False)
    assert {n.a for n in reads} == {"b"}


def test_oversized_directory_is_reported_and_the_old_state_kept() -> None:
    m = mirror(limit=10)
    listed(m, ["a"])
    m.on_children(providers("a"), ["p1"], full=True)
    m.complete()
    m.on_children(providers("a"), ["x" * 6, "y" * 6], full=False)
    events = m.take_events()
    assert len(events) == 1
    assert isinstance(events[0], BadNode)
    assert "too large" in events[0].reason
    m.on_children(providers("a"), ["p1"], full=False)
    assert m.take_events() == []  # unchanged from what was last published


def test_instances_are_emitted_once_every_payload_is_read() -> None:
    m = mirror()
    apps = m.on_children(SERVICES, ["app"], full=True)
    assert [n.kind for n in apps] == [Kind.APP]
    inst = m.on_children(apps[0], ["i1", "i2"], full=True)
    assert sorted(n.b for n in inst) == ["i1", "i2"]
    m.complete()
    by_id = {n.b: n for n in inst}
    m.on_data(by_id["i1"], b"one")
    assert m.take_events() == []
    m.on_data(by_id["i2"], b"two")
    [event] = m.take_events()
    assert isinstance(event, InstancesChanged)
    assert dict(event.instances) == {"i1": b"one", "i2": b"two"}
    m.on_data(by_id["i2"], None)  # deleted
    [event] = m.take_events()
    assert dict(event.instances) == {"i1": b"one"}
    m.on_children(SERVICES, [], full=False)
    assert m.take_events() == [InstancesChanged("r", "app")]


def test_rules_mapping_and_metadata() -> None:
    m = mirror()
    rules_dir = Node(Kind.RULES_DIR, "/dubbo/config/dubbo", "/dubbo")
    [rule] = m.on_children(rules_dir, ["app.configurators", "app.tag-router"], full=True)
    m.complete()
    m.on_data(rule, b"configs:\n  - addresses: ['1.2.3.4:20880']\n    parameters: {weight: 5}\n")
    [event] = m.take_events()
    assert isinstance(event, ConfigRuleChanged)
    assert event.document == {
        "configs": [{"addresses": ["1.2.3.4:20880"], "parameters": {"weight": 5}}]
    }
    m.on_data(rule, b"configs: [unclosed")
    [event] = m.take_events()
    assert event == ConfigRuleChanged("r", "/dubbo", "app.configurators", None, event.error)
    assert event.error.startswith("invalid YAML")
    m.on_children(rules_dir, [], full=False)
    assert m.take_events() == [ConfigRuleChanged("r", "/dubbo", "app.configurators", None)]

    mapping_dir = Node(Kind.MAPPING_DIR, "/dubbo/mapping", "/dubbo")
    [entry] = m.on_children(mapping_dir, ["a.B"], full=True)
    m.on_data(entry, b"app1,app2")
    assert m.take_events() == [MappingChanged("r", "/dubbo", "a.B", b"app1,app2")]
    m.on_children(mapping_dir, [], full=False)
    assert m.take_events() == [MappingChanged("r", "/dubbo", "a.B", None)]

    meta_dir = Node(Kind.METADATA_DIR, "/dubbo/metadata", "/dubbo")
    [app] = m.on_children(meta_dir, ["app"], full=True)
    [rev] = m.on_children(app, ["r1"], full=True)
    m.on_data(rev, b"{}")
    assert m.take_events() == [MetadataChanged("r", "/dubbo", "app", "r1", b"{}")]
    m.on_children(meta_dir, [], full=False)
    assert m.take_events() == [MetadataChanged("r", "/dubbo", "app", "r1", None)]


def test_bad_node_keeps_previous_knowledge() -> None:
    m = mirror()
    listed(m, ["a"])
    m.on_children(providers("a"), ["p1"], full=True)
    m.complete()
    m.on_bad(providers("a"), "permission denied")
    assert m.take_events() == [BadNode("r", "/dubbo/a/providers", "permission denied")]
    m.on_children(providers("a"), ["p1"], full=False)
    assert m.take_events() == []
