"""Planning decides every write: zero writes when equal, ownership, grace periods, rejections."""

from __future__ import annotations

import copy
from typing import Any

from dubbomesh.k8s.manifest import MANAGED_BY, REGISTRY, desired_manifest
from dubbomesh.k8s.plan import Key, plan
from dubbomesh.k8s.settings import K8sSettings
from tests.k8s.samples import service_entry

SETTINGS = K8sSettings(namespace="mesh", registry_name="reg1")


def want(*names: str) -> dict[Key, dict[str, Any]]:
    objs = [service_entry(n, "10.0.0.1", labels=(("app", n),)) for n in names]
    return {("ServiceEntry", o.name): desired_manifest(o, SETTINGS) for o in objs}


def as_observed(desired: dict[Key, dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    out = copy.deepcopy(desired)
    for i, obj in enumerate(out.values()):
        obj["metadata"].update(resourceVersion=str(100 + i), uid=f"u{i}")
        obj["metadata"]["labels"]["extra"] = "someone-elses"  # foreign labels are tolerated
    return out


def run(desired: Any, observed: Any, **kw: Any) -> Any:
    args: dict[str, Any] = dict(
        registry_name="reg1",
        now=1000.0,
        grace=60.0,
        deletions_allowed=True,
        orphan_since={},
        rejected={},
    )
    args.update(kw)
    return plan(desired, observed, **args)


def test_equal_objects_need_no_write() -> None:
    d = want("a", "b")
    p = run(d, as_observed(d))
    assert p.actions == ()
    assert p.equal == 2


def test_missing_objects_are_applied() -> None:
    p = run(want("a"), {})
    assert [(a.op, a.key, a.observed) for a in p.actions] == [
        ("apply", ("ServiceEntry", "a"), None)
    ]


def test_spec_tampering_is_detected_even_with_the_same_annotation() -> None:
    d = want("a")
    o = as_observed(d)
    o[("ServiceEntry", "a")]["spec"]["hosts"] = ["evil.example"]
    p = run(d, o)
    assert [(a.op, a.reason) for a in p.actions] == [("apply", "spec")]


def test_removed_label_of_ours_is_repaired() -> None:
    d = want("a")
    o = as_observed(d)
    del o[("ServiceEntry", "a")]["metadata"]["labels"]["app"]
    assert [a.reason for a in run(d, o).actions] == ["labels"]


def test_foreign_object_with_our_name_is_never_touched() -> None:
    d = want("a")
    o = as_observed(d)
    del o[("ServiceEntry", "a")]["metadata"]["labels"][MANAGED_BY]
    p = run(d, o)
    assert p.actions == ()
    assert p.blocked[0][0] == ("ServiceEntry", "a")


def test_other_registry_objects_are_neither_updated_nor_deleted() -> None:
    d = want("a")
    o = as_observed(d)
    o[("ServiceEntry", "a")]["metadata"]["labels"][REGISTRY] = "reg2"
    assert run(d, o).actions == ()
    assert run({}, o, orphan_since={("ServiceEntry", "a"): 0.0}).actions == ()


def test_orphan_waits_for_the_grace_period_then_is_deleted() -> None:
    o = as_observed(want("gone"))
    first = run({}, o, now=1000.0)
    assert first.actions == ()
    assert first.orphan_since == {("ServiceEntry", "gone"): 1000.0}
    assert first.next_deadline == 1060.0
    early = run({}, o, now=1059.0, orphan_since=first.orphan_since)
    assert early.actions == ()
    due = run({}, o, now=1060.0, orphan_since=first.orphan_since)
    assert [(a.op, a.key) for a in due.actions] == [("delete", ("ServiceEntry", "gone"))]


def test_incomplete_view_never_deletes_and_resets_the_timer() -> None:
    o = as_observed(want("gone"))
    p = run({}, o, now=5000.0, deletions_allowed=False, orphan_since={("ServiceEntry", "gone"): 0})
    assert p.actions == ()
    assert p.orphan_since == {}
    assert p.next_deadline is None


def test_zero_grace_deletes_at_once() -> None:
    o = as_observed(want("gone"))
    assert [a.op for a in run({}, o, grace=0.0).actions] == ["delete"]


def test_rejected_content_is_not_retried_until_it_changes() -> None:
    d = want("a")
    version = d[("ServiceEntry", "a")]["metadata"]["annotations"]["dubbomesh.io/content-version"]
    p = run(d, {}, rejected={("ServiceEntry", "a"): version})
    assert p.actions == ()
    assert len(p.blocked) == 1
    assert [a.op for a in run(d, {}, rejected={("ServiceEntry", "a"): "older"}).actions] == [
        "apply"
    ]
