"""Path classification: every path the mirror reads maps back to the same node (table)."""

from __future__ import annotations

import dataclasses

import pytest

from dubbomesh.zk.paths import Kind, Node, PathMap

PM = PathMap(("/dubbo", "/prod/dubbo"), "/services", True)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/dubbo", Node(Kind.ROOT, "/dubbo", "/dubbo")),
        ("/prod/dubbo", Node(Kind.ROOT, "/prod/dubbo", "/prod/dubbo")),
        ("/dubbo/a.B/providers", Node(Kind.PROVIDERS, "/dubbo/a.B/providers", "/dubbo", "a.B")),
        (
            "/prod/dubbo/a.B/configurators",
            Node(Kind.CONFIGURATORS, "/prod/dubbo/a.B/configurators", "/prod/dubbo", "a.B"),
        ),
        ("/dubbo/config/dubbo", Node(Kind.RULES_DIR, "/dubbo/config/dubbo", "/dubbo")),
        (
            "/dubbo/config/dubbo/app.configurators",
            Node(Kind.RULE, "/dubbo/config/dubbo/app.configurators", "/dubbo", "app.configurators"),
        ),
        ("/dubbo/config/dubbo/app.tag-router", None),
        ("/dubbo/mapping", Node(Kind.MAPPING_DIR, "/dubbo/mapping", "/dubbo")),
        ("/dubbo/mapping/a.B", Node(Kind.MAPPING, "/dubbo/mapping/a.B", "/dubbo", "a.B")),
        ("/dubbo/metadata/app", Node(Kind.METADATA_APP, "/dubbo/metadata/app", "/dubbo", "app")),
        (
            "/dubbo/metadata/app/r1",
            Node(Kind.METADATA, "/dubbo/metadata/app/r1", "/dubbo", "app", "r1"),
        ),
        ("/services", Node(Kind.SERVICES, "/services", "/services")),
        ("/services/app", Node(Kind.APP, "/services/app", "/services", "app")),
        (
            "/services/app/1.2.3.4:20880",
            Node(Kind.INSTANCE, "/services/app/1.2.3.4:20880", "/services", "app", "1.2.3.4:20880"),
        ),
        ("/dubbo/a.B/consumers", None),
        ("/dubbo/a.B", None),
        ("/dubbo/a.B/providers/x", None),
        ("/other/a.B/providers", None),
        ("/dubbox/a.B/providers", None),
    ],
)
def test_classify(path: str, expected: Node | None) -> None:
    assert PM.classify(path) == expected


def test_every_planned_child_classifies_back_to_itself() -> None:
    for top in PM.top():
        assert PM.classify(top.path) == top
        for name in ("a.B", "app", "x.configurators", "1.2.3.4:20880"):
            for child in PM.child(top, name):
                assert PM.classify(child.path) == child
                for grandchild in PM.child(child, "r1"):
                    assert PM.classify(grandchild.path) == grandchild


def test_non_service_directories_are_skipped() -> None:
    root = Node(Kind.ROOT, "/dubbo", "/dubbo")
    assert PM.child(root, "config") == []
    assert PM.child(root, "mapping") == []
    assert PM.child(root, "metadata") == []
    assert [n.kind for n in PM.child(root, "a.B")] == [Kind.PROVIDERS, Kind.CONFIGURATORS]


def test_application_discovery_off_reads_no_dubbo3_paths() -> None:
    pm = PathMap(("/dubbo",), "/services", False)
    assert [n.kind for n in pm.top()] == [Kind.ROOT, Kind.RULES_DIR]
    assert pm.classify("/services/app") is None
    assert pm.classify("/dubbo/mapping/a.B") is None


def test_nodes_are_still_frozen_values_with_defaults() -> None:
    node = Node(Kind.PROVIDERS, "/dubbo/a/providers", "/dubbo", "a")
    assert node == Node(Kind.PROVIDERS, "/dubbo/a/providers", "/dubbo", "a", "")
    assert hash(node) == hash(Node(Kind.PROVIDERS, "/dubbo/a/providers", "/dubbo", "a"))
    assert Node(Kind.ROOT, "/dubbo").root == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.path = "/x"  # type: ignore[misc]
