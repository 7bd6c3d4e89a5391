"""The sans-IO stream machine: scenario tests, no network."""

from __future__ import annotations

import pytest

from dubbomesh.xds.machine import Outcome, ProtocolError, StreamMachine, Variant
from dubbomesh.xds.snapshot import SnapshotBuilder
from dubbomesh.xds.types import CLUSTER, ENDPOINT, LISTENER, UnknownTypeError
from tests.xds.helpers import intent, many, service_entry

SE = "networking.istio.io/v1/ServiceEntry"


def test_first_request_with_made_up_nonce_is_a_subscription() -> None:
    m = StreamMachine(Variant.SOTW)
    result = m.on_sotw(SE, [], "1732000000123456789")
    assert result.outcome is Outcome.SUBSCRIBED
    snap = SnapshotBuilder().build(intent(*many(3)))
    [out] = m.pending(snap)
    assert out.type_url == SE
    assert out.resources == 3


def test_ack_causes_no_push_and_stale_nonce_is_ignored() -> None:
    m = StreamMachine(Variant.SOTW)
    b = SnapshotBuilder()
    snap = b.build(intent(*many(3)))
    m.on_sotw(CLUSTER, [], "")
    [out] = m.pending(snap)
    assert m.on_sotw(CLUSTER, [], "bogus").outcome is Outcome.STALE
    assert m.on_sotw(CLUSTER, [], out.nonce).outcome is Outcome.ACK
    assert m.pending(snap) == []
    assert m.watches[CLUSTER].acked_version == out.version


def test_nack_keeps_last_accepted_and_is_counted() -> None:
    m = StreamMachine(Variant.SOTW)
    b = SnapshotBuilder()
    objs = many(3)
    snap1 = b.build(intent(*objs))
    m.on_sotw(ENDPOINT, ["outbound|50051||svc0.dubbo.mesh", "outbound|50051||svc1.dubbo.mesh"], "")
    [first] = m.pending(snap1)
    m.on_sotw(
        ENDPOINT,
        ["outbound|50051||svc0.dubbo.mesh", "outbound|50051||svc1.dubbo.mesh"],
        first.nonce,
    )
    objs[0] = service_entry("svc0", [("10.1.1.1", 1)])
    snap2 = b.build(intent(*objs))
    [second] = m.pending(snap2)
    assert second.resources == 1
    result = m.on_sotw(
        ENDPOINT,
        ["outbound|50051||svc0.dubbo.mesh", "outbound|50051||svc1.dubbo.mesh"],
        second.nonce,
        "bad",
    )
    assert result.outcome is Outcome.NACK
    assert result.detail == "bad"
    w = m.watches[ENDPOINT]
    assert (w.nacks, w.last_nack, w.acked_version) == (1, "bad", first.version)
    assert m.pending(snap2) == [], "a NACK never causes a resend of the same content"
    # The next change is computed against what the client accepted: svc0 is sent again with svc1.
    objs[1] = service_entry("svc1", [("10.1.1.2", 1)])
    [third] = m.pending(b.build(intent(*objs)))
    assert third.resources == 2


def test_sotw_eds_sends_only_changed_and_lds_named_ignores_others() -> None:
    m = StreamMachine(Variant.SOTW)
    b = SnapshotBuilder()
    objs = many(4)
    snap = b.build(intent(*objs))
    m.on_sotw(ENDPOINT, [f"outbound|50051||svc{i}.dubbo.mesh" for i in range(4)], "")
    m.on_sotw(LISTENER, ["svc0.dubbo.mesh:50051"], "")
    outs = m.pending(snap)
    assert sorted(o.resources for o in outs) == [1, 4]
    objs[2] = service_entry("svc2", [("10.3.3.3", 1)])
    outs = m.pending(b.build(intent(*objs)))
    assert [(o.type_url, o.resources) for o in outs] == [(ENDPOINT, 1)]
    objs[0] = service_entry("svc0", [("10.3.3.4", 1)], port=50052)
    outs = m.pending(b.build(intent(*objs)))
    # svc0's listener is gone (its port changed): the full subscribed set is now empty.
    assert (LISTENER, 0) in [(o.type_url, o.resources) for o in outs]


def test_unknown_type_and_missing_type_are_refused() -> None:
    m = StreamMachine(Variant.SOTW)
    with pytest.raises(UnknownTypeError):
        m.on_sotw("type.googleapis.com/some.Other", [], "")
    with pytest.raises(ProtocolError):
        m.on_sotw("", [], "")
    assert m.watches == {}
    # Types we know but do not publish are answered with an empty set.
    m.on_sotw("security.istio.io/v1/AuthorizationPolicy", [], "1")
    m.on_sotw("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", ["x"], "")
    outs = m.pending(SnapshotBuilder().build(intent(*many(2))))
    assert [o.resources for o in outs] == [0, 0]


def test_delta_removes_and_resubscribes() -> None:
    m = StreamMachine(Variant.DELTA)
    b = SnapshotBuilder()
    objs = many(3)
    m.on_delta(CLUSTER, subscribe=["*"], unsubscribe=[], nonce="")
    [out] = m.pending(b.build(intent(*objs)))
    assert out.resources == 3
    m.on_delta(CLUSTER, subscribe=[], unsubscribe=[], nonce=out.nonce)
    [out] = m.pending(b.build(intent(*objs[:2])))
    assert (out.resources, out.removed) == (0, 1)
