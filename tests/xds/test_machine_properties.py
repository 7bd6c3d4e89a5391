"""Property-based tests of the stream machine over random request/snapshot sequences.

A model client applies every response it accepts (SotW full-state types replace the view, SotW
EDS/RDS merge, Delta merges and removes). Properties:
- an ACK or a stale request never produces output;
- a NACK produces no output until the content changes;
- a request the machine says needs no wake-up (``RequestResult.wake`` False) produces no output;
- after a final content change and quiescence, the client's view equals the snapshot restricted to
  its subscription (for SotW EDS/RDS, the view holds at least every subscribed resource, newest).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envoy.service.discovery.v3 import discovery_pb2
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dubbomesh.mesh.intent import MeshObject
from dubbomesh.xds.machine import Outgoing, RequestResult, StreamMachine, Variant
from dubbomesh.xds.snapshot import Snapshot, SnapshotBuilder
from dubbomesh.xds.types import CLUSTER, ENDPOINT, LISTENER, classify
from tests.xds.helpers import intent, service_entry

SE = "networking.istio.io/v1/ServiceEntry"
TYPES = [CLUSTER, ENDPOINT, LISTENER, SE]
NAMES = {
    CLUSTER: [f"outbound|{p}||svc{i}.dubbo.mesh" for i in range(4) for p in (50051, 50052)],
    ENDPOINT: [f"outbound|{p}||svc{i}.dubbo.mesh" for i in range(4) for p in (50051, 50052)],
    LISTENER: [f"svc{i}.dubbo.mesh:{p}" for i in range(4) for p in (50051, 50052)],
    SE: [f"dubbo/svc{i}" for i in range(4)],
}

# An intent: for each of 4 services, absent or (endpoint variant, port variant).
service_state = st.one_of(st.none(), st.tuples(st.integers(0, 2), st.sampled_from([50051, 50052])))
intents = st.lists(service_state, min_size=4, max_size=4)
subscription = st.one_of(st.none(), st.lists(st.integers(0, 7), max_size=4))
ops = st.lists(
    st.one_of(
        st.tuples(st.just("intent"), intents),
        st.tuples(st.just("subscribe"), st.sampled_from(TYPES), subscription),
        st.tuples(st.just("reply"), st.sampled_from(["ack", "nack", "stale", "ack-change"])),
    ),
    max_size=25,
)


def build(states: list[tuple[int, int] | None], extra: bool = False) -> list[MeshObject]:
    objs = [
        service_entry(f"svc{i}", [(f"10.0.{v}.{i + 1}", 20880)], port=port)
        for i, s in enumerate(states)
        if s is not None
        for v, port in [s]
    ]
    if extra:
        objs.append(service_entry("zzz", [("10.9.9.9", 1)]))
    return objs


@dataclass
class Client:
    variant: Variant
    subs: dict[str, set[str] | None] = field(default_factory=dict)
    views: dict[str, dict[str, str]] = field(default_factory=dict)
    inbox: list[Outgoing] = field(default_factory=list)
    last_nonce: dict[str, str] = field(default_factory=dict)

    def apply(self, out: Outgoing, by_bytes: dict[bytes, tuple[str, str]]) -> None:
        view = self.views.setdefault(out.type_url, {})
        if self.variant is Variant.SOTW:
            resp = discovery_pb2.DiscoveryResponse.FromString(out.payload)
            got = dict(by_bytes[r.SerializeToString(deterministic=True)] for r in resp.resources)
            if classify(out.type_url).full_state:
                view.clear()
            view.update(got)
        else:
            dresp = discovery_pb2.DeltaDiscoveryResponse.FromString(out.payload)
            subs = self.subs.get(out.type_url)
            for r in dresp.resources:
                if subs is None or r.name in subs:  # late resources it no longer wants: ignored
                    view[r.name] = r.version
            for name in dresp.removed_resources:
                view.pop(name, None)


def same_subscription(m: StreamMachine, type_url: str, names: set[str] | None) -> bool:
    """True when the server's view of the subscription already equals the client's."""
    watch = m.watches[type_url]
    if names is None:
        return watch.wildcard
    return not watch.wildcard and watch.names == names


NEW = frozenset({"<not subscribed>"})


def request(
    m: StreamMachine,
    type_url: str,
    names: set[str] | None,
    nonce: str,
    error: str = "",
    *,
    old: set[str] | frozenset[str] | None,
) -> RequestResult:
    """Send the request a client with subscription ``old`` (NEW: none yet) -> ``names`` sends."""
    if m.variant is Variant.SOTW:
        wildcard = [] if old is NEW else ["*"]
        return m.on_sotw(type_url, sorted(names) if names is not None else wildcard, nonce, error)
    if old is NEW:
        sub = ["*"] if names is None else sorted(names) or ["nothing"]
        return m.on_delta(type_url, subscribe=sub, unsubscribe=[], nonce=nonce, error=error)
    before = set() if old is None else set(old)
    after = set() if names is None else names
    sub = sorted(after - before) + (["*"] if names is None and old is not None else [])
    unsub = sorted(before - after) + (["*"] if old is None and names is not None else [])
    return m.on_delta(type_url, subscribe=sub, unsubscribe=unsub, nonce=nonce, error=error)


@settings(max_examples=200, deadline=None)
@given(variant=st.sampled_from([Variant.SOTW, Variant.DELTA]), steps=ops, final=intents)
# Found by this test: SotW EDS widened to a wildcard while ACKing, then NACKed the response that
# first carried svc1; the next change (a new service) must still bring svc1.
@example(
    variant=Variant.SOTW,
    steps=[
        ("intent", [None, (0, 50051), None, None]),
        ("subscribe", ENDPOINT, [0]),
        ("reply", "ack-change"),
        ("reply", "nack"),
    ],
    final=[None, (0, 50051), None, None],
)
def test_machine_converges_and_never_answers_acks(
    variant: Variant, steps: list[tuple[object, ...]], final: list[tuple[int, int] | None]
) -> None:
    builder = SnapshotBuilder()
    by_bytes: dict[bytes, tuple[str, str]] = {}
    snap: Snapshot | None = None
    m = StreamMachine(variant)
    c = Client(variant)

    def take(s: Snapshot) -> list[Outgoing]:
        for ts in s.types.values():
            for r in ts.resources.values():
                by_bytes[r.any_bytes] = (r.name, r.version)
        return m.pending(s)

    for step in steps:
        woke = True  # False: the last request said it cannot have created output
        if step[0] == "intent":
            snap = builder.build(intent(*build(step[1])))  # type: ignore[arg-type]
        elif step[0] == "subscribe":
            type_url, idx = step[1], step[2]
            assert isinstance(type_url, str)
            names = (
                None if idx is None else {NAMES[type_url][i % len(NAMES[type_url])] for i in idx}
            )  # type: ignore[union-attr]
            if type_url == SE:
                names = None  # istiod only ever subscribes with a wildcard
            held = m.watches.get(type_url)
            if (
                variant is Variant.SOTW
                and names == set()
                and (c.subs.get(type_url) is None or (held is not None and held.wildcard))
            ):
                # SotW: an empty list is a wildcard, and keeps one a wildcard, also when the
                # client's narrowing request before was stale and ignored (legacy wildcard rules).
                names = None
            old = c.subs.get(type_url, NEW)
            # SotW carries the nonce of the last response processed; Delta needs none.
            nonce = c.last_nonce.get(type_url, "") if variant is Variant.SOTW else ""
            woke = request(m, type_url, names, nonce, old=old).wake
            c.subs[type_url] = names
            if variant is Variant.DELTA and names is not None:  # a client forgets what it drops
                view = c.views.get(type_url, {})
                c.views[type_url] = {n: v for n, v in view.items() if n in names}
        elif c.inbox:
            out = c.inbox.pop(0)
            type_url, subs = out.type_url, c.subs[out.type_url]
            reply = step[1]
            if reply == "stale":
                request(m, type_url, subs, "stale-" + out.nonce, old=subs)
                assert snap is None or take(snap) == [], "a stale nonce never produces output"
                reply = "ack"
            latest = m.watches[type_url].nonce == out.nonce
            quiet = same_subscription(m, type_url, subs)
            c.last_nonce[type_url] = out.nonce
            if reply == "ack-change" and type_url != SE and (variant is Variant.DELTA or latest):
                # An ACK that also changes the subscription (Envoy asks for new EDS names while
                # ACKing): wildcard <-> one name.
                c.apply(out, by_bytes)
                names = {NAMES[type_url][0]} if subs is None else None
                woke = request(m, type_url, names, out.nonce, old=subs).wake
                c.subs[type_url] = names
                if variant is Variant.DELTA and names is not None:
                    view = c.views.get(type_url, {})
                    c.views[type_url] = {n: v for n, v in view.items() if n in names}
            elif reply in ("ack", "ack-change") or (variant is Variant.SOTW and not latest):
                c.apply(out, by_bytes)
                woke = request(m, type_url, subs, out.nonce, old=subs).wake
                if quiet:
                    assert snap is None or take(snap) == [], "an ACK never produces output"
            else:
                woke = request(m, type_url, subs, out.nonce, "rejected", old=subs).wake
                if quiet:
                    assert snap is None or [o for o in take(snap) if o.type_url == type_url] == []
        if snap is not None:
            fresh = take(snap)
            assert woke or fresh == [], "a request without wake-up produced output"
            c.inbox.extend(fresh)

    # Final change (a new service touches every type), then ACK everything until quiet.
    snap = builder.build(intent(*build(final, extra=True)))
    c.inbox.extend(take(snap))
    while c.inbox:
        out = c.inbox.pop(0)
        c.apply(out, by_bytes)
        quiet = same_subscription(m, out.type_url, c.subs[out.type_url])
        c.last_nonce[out.type_url] = out.nonce
        request(m, out.type_url, c.subs[out.type_url], out.nonce, old=c.subs[out.type_url])
        if quiet:
            assert take(snap) == [], "an ACK never produces output"
        c.inbox.extend(take(snap))
    assert take(snap) == []

    for type_url, names in c.subs.items():
        current = {n: r.version for n, r in snap.get(classify(type_url).rtype).resources.items()}
        want = current if names is None else {n: v for n, v in current.items() if n in names}
        view = c.views.get(type_url, {})
        if variant is Variant.DELTA or classify(type_url).full_state:
            assert view == want, type_url
        else:
            assert {n: view.get(n) for n in want} == want, type_url
