"""ProviderDirectories: a listing in, only what changed out; names are decoded once."""

from __future__ import annotations

from dubbomesh.dubbo.directories import ProviderDirectories, name_key
from dubbomesh.dubbo.model import VOLATILE_PARAMS, ServiceId
from dubbomesh.dubbo.problems import ProblemLog
from tests.dubbo.test_builder import node

KEY = ("zk", "dubbo", "com.foo.A")
A = ServiceId("com.foo.A", "", "1.0")


def dirs(log: ProblemLog | None = None) -> ProviderDirectories:
    return ProviderDirectories(log or ProblemLog(), allow_loopback=False, volatile=VOLATILE_PARAMS)


def names(*hosts: int, iface: str = "com.foo.A") -> frozenset[str]:
    return frozenset(node(iface, f"10.0.0.{h}") for h in hosts)


def test_an_unknown_directory_listed_empty_changes_nothing() -> None:
    d = dirs()
    assert d.set(KEY, frozenset()) is None
    assert not d.names
    assert d.provider_nodes == 0


def test_first_listing_adds_every_endpoint() -> None:
    d = dirs()
    change = d.set(KEY, names(1, 2, 3))
    assert change is not None
    added, removed, emptied = change
    assert sorted(ep.address for ep in added) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert {ep.service for ep in added} == {A}
    assert removed == []
    assert emptied == []
    assert d.provider_nodes == 3
    assert set(d.endpoints_of(KEY)) == set(added)
    assert set(d.names[KEY]) == {name_key(n) for n in names(1, 2, 3)}


def test_names_seen_before_are_not_decoded_again() -> None:
    d = dirs()
    d.set(KEY, names(1, 2))
    before = {ep.address: ep for ep in d.endpoints_of(KEY) if ep is not None}
    assert d.set(KEY, names(1, 2)) == ([], [], [])
    change = d.set(KEY, names(1, 2, 3))
    assert change is not None
    assert [ep.address for ep in change[0]] == ["10.0.0.3"]
    after = {ep.address: ep for ep in d.endpoints_of(KEY) if ep is not None}
    assert all(after[a] is ep for a, ep in before.items())


def test_removals_report_endpoints_and_services_left_without_any() -> None:
    d = dirs()
    other = names(9, iface="com.foo.B")  # listed under A, served as B (the URL wins)
    d.set(KEY, names(1, 2) | other)
    change = d.set(KEY, names(1) | other)
    assert change is not None
    assert change[0] == []
    assert [ep.address for ep in change[1]] == ["10.0.0.2"]
    assert change[2] == []  # A still has 10.0.0.1
    change = d.set(KEY, names(1))
    assert change is not None
    assert change[2] == [ServiceId("com.foo.B", "", "1.0")]
    change = d.set(KEY, frozenset())
    assert change is not None
    assert change[2] == [A]
    assert KEY not in d.names
    assert d.provider_nodes == 0


def test_a_bad_name_is_kept_as_none_and_reported_once() -> None:
    log = ProblemLog()
    d = dirs(log)
    bad = "not%20a%20url"
    change = d.set(KEY, names(1) | {bad})
    assert change is not None
    assert len(change[0]) == 1
    assert None in list(d.endpoints_of(KEY))
    assert d.provider_nodes == 2
    reported = sum(log.counts.values())
    assert reported >= 1
    d.set(KEY, names(1, 2) | {bad})
    assert sum(log.counts.values()) == reported


def test_raw_endpoints_by_registry() -> None:
    d = dirs()
    d.set(KEY, names(1))
    d.set(("other", "dubbo", "com.foo.A"), names(2))
    assert {ep.address for ep in d.raw_endpoints()} == {"10.0.0.1", "10.0.0.2"}
    assert [ep.address for ep in d.raw_endpoints("other")] == ["10.0.0.2"]


def test_compact_keeps_live_endpoints_and_forgets_query_templates() -> None:
    d = dirs()
    d.set(KEY, names(1, 2, 3))
    assert len(d.memo) > 0
    live = set(d.raw_endpoints())
    assert not d.compact_due
    d.compact()
    assert len(d.memo) == 0
    assert set(d.raw_endpoints()) == live
    change = d.set(KEY, names(1, 2, 3, 4))  # still served from the directory memo
    assert change is not None
    assert [ep.address for ep in change[0]] == ["10.0.0.4"]
