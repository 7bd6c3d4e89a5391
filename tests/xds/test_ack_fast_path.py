"""Big SotW ACKs are recognised by their bytes (names unchanged) without decoding 10,000 names,
and this never changes what the machine decides."""

from __future__ import annotations

from envoy.service.discovery.v3 import discovery_pb2
from google.rpc import status_pb2
from hypothesis import given
from hypothesis import strategies as st

from dubbomesh.xds.machine import Outcome, Variant
from dubbomesh.xds.session import NAMES_KEY_MIN, Session
from dubbomesh.xds.settings import NullObserver
from dubbomesh.xds.snapshot import SnapshotBuilder
from dubbomesh.xds.types import CLUSTER, ENDPOINT
from dubbomesh.xds.wire import match_ack, names_block
from tests.xds.helpers import intent, many

text = st.text(max_size=12)


def request(
    names: list[str], version: str = "", nonce: str = "", url: str = ENDPOINT, node: str = ""
) -> bytes:
    req = discovery_pb2.DiscoveryRequest(
        version_info=version, resource_names=names, type_url=url, response_nonce=nonce
    )
    if node:  # Envoy sends its node with every request unless told otherwise
        req.node.id = node
        req.node.cluster = "c"
    return req.SerializeToString()


@given(
    names=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=20),
    other=st.lists(st.text(min_size=1, max_size=30), max_size=20),
    v1=text,
    v2=text,
    n1=text,
    n2=text,
    node=text,
)
def test_an_ack_matches_the_block_of_the_same_names_only(
    names: list[str], other: list[str], v1: str, v2: str, n1: str, n2: str, node: str
) -> None:
    block = names_block(request(names, v1, n1, node=node), ENDPOINT, n1)
    assert block  # clients write fields in number order: the layout is recognised
    assert match_ack(request(names, v2, n2), ENDPOINT, block) == n2
    assert match_ack(request(names, v2, n2, node="sidecar~1"), ENDPOINT, block) == n2
    assert match_ack(request(names, v2, n2, url=CLUSTER), ENDPOINT, block) is None
    if other != names:
        assert match_ack(request(other, v2, n2), ENDPOINT, block) is None
    nack = discovery_pb2.DiscoveryRequest(
        version_info=v2,
        resource_names=names,
        type_url=ENDPOINT,
        response_nonce=n2,
        error_detail=status_pb2.Status(message="bad"),
    ).SerializeToString()
    assert match_ack(nack, ENDPOINT, block) is None  # a NACK is always decoded


def test_truncated_or_reordered_requests_do_not_match() -> None:
    names = [f"outbound|50051||svc{i}.dubbo.mesh" for i in range(50)]
    raw = request(names, "v", "7")
    block = names_block(raw, ENDPOINT, "7")
    assert match_ack(raw[:-1], ENDPOINT, block) is None
    assert match_ack(raw + b"\x2a\x01x", ENDPOINT, block) is None
    assert names_block(raw, ENDPOINT, "8") == b""  # not the layout the fields say
    assert names_block(raw[:3], ENDPOINT, "7") == b""


def names(prefix: str) -> list[str]:
    out = [f"outbound|50051||{prefix}{i}.dubbo.mesh" for i in range(100)]
    assert len(request(out)) >= NAMES_KEY_MIN
    return out


def test_a_stale_request_never_teaches_the_fast_path_its_names() -> None:
    s = Session(Variant.SOTW, "peer", NullObserver())
    a, b = names("a"), names("b")
    assert s.on_request(request(a)).outcome is Outcome.SUBSCRIBED
    [out] = s.machine.pending(SnapshotBuilder().build(intent(*many(3))))
    assert s.on_request(request(a, out.version, out.nonce)).outcome is Outcome.ACK
    # A stale request with other names is ignored, names included...
    assert s.on_request(request(b, "", "stale")).outcome is Outcome.STALE
    assert s.machine.watches[ENDPOINT].names == set(a)
    # ...so the same names with the current nonce are decoded and applied, not taken for an ACK
    # of the names applied before.
    s.on_request(request(b, out.version, out.nonce))
    assert s.machine.watches[ENDPOINT].names == set(b)
    assert s.machine.watches[ENDPOINT].full  # a subscription change: the machine resends


def test_a_fast_ack_is_an_ack_and_changes_nothing_else() -> None:
    s = Session(Variant.SOTW, "peer", NullObserver())
    a = names("a")
    s.on_request(request(a))
    snap = SnapshotBuilder().build(intent(*many(3)))
    [out] = s.machine.pending(snap)
    key = s.machine.watches[ENDPOINT].names_key
    assert key
    assert match_ack(request(a, out.version, out.nonce), ENDPOINT, key) == out.nonce
    assert s.on_request(request(a, out.version, out.nonce)).outcome is Outcome.ACK
    watch = s.machine.watches[ENDPOINT]
    assert (watch.names, watch.acked_version, watch.inflight) == (set(a), out.version, {})
    assert s.machine.pending(snap) == []
