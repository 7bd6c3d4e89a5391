"""The per-stream xDS protocol state machine, sans-IO: requests in, outcomes and response bytes out.

Why this module exists: subscriptions, nonces, ACK/NACK and "what does this client still need" are
the subtle part of xDS, and they deserve tests without a network (habit 2; go-control-plane keeps
the same split between ``cache`` and ``server``). The transport feeds every decoded request to
:meth:`StreamMachine.on_request` and, whenever a snapshot or a request may have created work, asks
:meth:`StreamMachine.pending` for the responses to write. Nothing here imports grpc.

Rules, per type URL on one stream:
- The first request for a type is a subscription, whatever its nonce (istiod stamps its initial
  requests with made-up time-stamp nonces).
- SotW: a request whose nonce is not the last one we sent for that type is stale and ignored; with
  the current nonce it is an ACK, or a NACK when it carries ``error_detail``. A NACK is counted and
  keeps the stream on its last accepted version: nothing is re-sent until the content changes, and
  that next push carries every subscribed resource of the type. An ACK never causes a push.
- Delta: subscription changes always apply; the nonce only classifies ACK/NACK.
- Full-state types (LDS, CDS, MCP kinds) resend the whole subscribed set when any of it changed;
  RDS and EDS (SotW) send only the changed subscribed resources; Delta sends changes and removals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from dubbomesh.xds.snapshot import Snapshot, TypeSet
from dubbomesh.xds.types import TypeInfo, classify
from dubbomesh.xds.wire import Encoded, delta_response, sotw_response

MAX_TYPES_PER_STREAM = 64
WILDCARD = "*"


class ProtocolError(ValueError):
    """The client broke the protocol; the stream should end with INVALID_ARGUMENT."""


class TooFarBehindError(RuntimeError):
    """A wildcard Delta stream missed more history than kept; it must reconnect (UNAVAILABLE)."""


class Variant(Enum):
    SOTW = "sotw"
    DELTA = "delta"


class Outcome(Enum):
    SUBSCRIBED = "subscribed"
    UPDATED = "updated"
    ACK = "ack"
    NACK = "nack"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class RequestResult:
    """What one request meant (for logs and metrics)."""

    outcome: Outcome
    type_url: str
    detail: str = ""
    wake: bool = True
    """False when the request cannot have created a response to send (an ACK, NACK or stale
    request that changed no subscription): the transport need not ask :meth:`pending`."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One response to write."""

    type_url: str
    payload: bytes
    nonce: str
    version: str
    resources: int
    removed: int = 0


@dataclass(slots=True)
class Watch:
    """One subscribed type on one stream."""

    info: TypeInfo
    wildcard: bool
    names: set[str] = field(default_factory=set)
    nonce: str = ""
    inflight: dict[str, tuple[int, str, frozenset[str]]] = field(default_factory=dict)
    """Nonces sent and not yet answered -> (type generation, version, Delta: names carried)."""
    dirty: set[str] = field(default_factory=set)
    """Delta: names of NACKed responses, sent again (or removed) with the next change."""
    sent_gen: int = -1
    base_gen: int = -1
    acked_gen: int = -1
    acked_version: str = ""
    sent_version: str = ""
    full: bool = True
    new_names: set[str] = field(default_factory=set)
    client_versions: dict[str, str] = field(default_factory=dict)
    forget_gen: int = -1
    """Delta: the oldest generation in flight when the client last unsubscribed (-1: none)."""
    acks: int = 0
    nacks: int = 0
    last_nack: str = ""
    names_key: bytes = b""
    """SotW: an opaque key of the resource names last APPLIED (given by the transport, see
    :meth:`StreamMachine.on_sotw`); empty when unknown."""
    renew: bool = False
    """SotW: the client NACKed, so it holds what it accepted, perhaps under another
    subscription; the next content change resends every subscribed resource even if none of them
    changed. Full-state types: else names it holds but no longer wants would never be removed.
    EDS/RDS: else names first sent by the NACKed response (a wider subscription whose content
    had not changed since the last ACK) would never reach it."""

    def wants(self, name: str) -> bool:
        return self.wildcard or name in self.names


class StreamMachine:
    """Protocol state of one ADS stream (either variant)."""

    def __init__(self, variant: Variant) -> None:
        self.variant = variant
        self.watches: dict[str, Watch] = {}
        self.node_id = ""
        self.node_meta: dict[str, str] = {}
        self._nonce = 0

    # -- requests ---------------------------------------------------------------------------
    def _watch(self, type_url: str, wildcard: bool) -> Watch:
        if not type_url:
            raise ProtocolError("request without type_url")
        if len(self.watches) >= MAX_TYPES_PER_STREAM:
            raise ProtocolError(f"more than {MAX_TYPES_PER_STREAM} types on one stream")
        watch = Watch(classify(type_url), wildcard)
        self.watches[type_url] = watch
        return watch

    def on_sotw(
        self,
        type_url: str,
        names: list[str] | None,
        nonce: str,
        error: str = "",
        *,
        names_key: bytes = b"",
    ) -> RequestResult:
        """A ``DiscoveryRequest`` (type_url, resource_names, response_nonce, error_detail).

        ``names=None`` means "the names whose ``names_key`` the watch holds", which the
        transport may pass after checking the request's key equals :meth:`names_key` (big ACKs
        then skip decoding 10,000 names). ``names_key`` is recorded whenever names are applied.
        """
        watch = self.watches.get(type_url)
        if watch is None:
            names = names or []
            watch = self._watch(type_url, wildcard=not names or WILDCARD in names)
            watch.names = set(names) - {WILDCARD}
            watch.names_key = names_key
            return RequestResult(Outcome.SUBSCRIBED, type_url)
        if nonce != watch.nonce:
            return RequestResult(Outcome.STALE, type_url, wake=False)
        changed = False
        if names is not None:
            wanted = set(names) - {WILDCARD}
            wildcard = not names or WILDCARD in names if watch.wildcard else WILDCARD in names
            if wildcard != watch.wildcard or wanted != watch.names:
                watch.new_names = wanted - watch.names
                watch.wildcard, watch.names, watch.full = wildcard, wanted, True
                changed = True
            watch.names_key = names_key
        if not nonce or nonce not in watch.inflight:
            return RequestResult(Outcome.UPDATED, type_url)
        return self._ack_or_nack(watch, error, nonce, wake=changed)

    def names_keys(self) -> list[tuple[str, bytes]]:
        """(type URL, names key) of the watches with a known key of their applied names."""
        return [(url, w.names_key) for url, w in self.watches.items() if w.names_key]

    def on_delta(
        self,
        type_url: str,
        *,
        subscribe: list[str],
        unsubscribe: list[str],
        nonce: str,
        error: str = "",
        initial_versions: dict[str, str] | None = None,
    ) -> RequestResult:
        """A ``DeltaDiscoveryRequest``."""
        watch = self.watches.get(type_url)
        if watch is None:
            watch = self._watch(type_url, wildcard=not subscribe or WILDCARD in subscribe)
            watch.names = set(subscribe) - {WILDCARD}
            watch.client_versions = dict(initial_versions or {})
            return RequestResult(Outcome.SUBSCRIBED, type_url)
        added = set(subscribe) - {WILDCARD} - watch.names
        watch.names |= added
        watch.names -= set(unsubscribe)
        watch.new_names |= added
        if WILDCARD in subscribe and not watch.wildcard:
            watch.wildcard, watch.full = True, True
        if WILDCARD in unsubscribe:
            watch.wildcard = False
        if unsubscribe and watch.inflight:
            # Responses already on the wire may still carry what is being dropped; if the client
            # subscribes again, removals since then must be repeated (see :meth:`_delta`).
            oldest = min(entry[0] for entry in watch.inflight.values())
            watch.forget_gen = oldest if watch.forget_gen < 0 else min(watch.forget_gen, oldest)
        if not nonce:
            return RequestResult(Outcome.UPDATED, type_url)
        changed = bool(subscribe or unsubscribe)
        if nonce not in watch.inflight:
            return RequestResult(Outcome.STALE, type_url, wake=changed)
        return self._ack_or_nack(watch, error, nonce, wake=changed)

    def _ack_or_nack(self, watch: Watch, error: str, nonce: str, *, wake: bool) -> RequestResult:
        # Clients answer in order: an answer settles its response and every older one.
        gen, version, names = watch.inflight[nonce]
        for key in [k for k in watch.inflight if int(k) <= int(nonce)]:
            del watch.inflight[key]
        if error:
            watch.nacks += 1
            watch.last_nack = error
            watch.base_gen = watch.acked_gen  # SotW: diff the next push from what was accepted
            watch.renew = True
            watch.dirty |= names  # Delta: later responses may still be accepted; redo only these
            return RequestResult(Outcome.NACK, watch.info.url, error, wake)
        watch.acks += 1
        if gen >= watch.acked_gen:
            watch.acked_gen, watch.acked_version = gen, version
        return RequestResult(Outcome.ACK, watch.info.url, wake=wake)

    # -- responses --------------------------------------------------------------------------
    def pending(self, snapshot: Snapshot) -> list[Outgoing]:
        """Responses this stream needs to catch up with ``snapshot`` (updates the state)."""
        out: list[Outgoing] = []
        for watch in self.watches.values():
            tset = snapshot.get(watch.info.rtype)
            if self.variant is Variant.SOTW:
                item = self._sotw(watch, tset)
            else:
                item = self._delta(watch, tset)
            if item is not None:
                out.append(item)
        return out

    def _next_nonce(self) -> str:
        self._nonce += 1
        return str(self._nonce)

    def _present(self, watch: Watch, tset: TypeSet, names: set[str] | None = None) -> list[Encoded]:
        if names is None:
            if watch.wildcard:
                return list(tset.resources.values())
            names = watch.names
        res = tset.resources
        return [res[n] for n in sorted(names) if n in res and watch.wants(n)]

    def _sotw(self, watch: Watch, tset: TypeSet) -> Outgoing | None:
        send: list[Encoded] | None = None
        if watch.full or watch.sent_gen < 0:
            if watch.info.full_state or watch.sent_gen < 0 or watch.wildcard:
                send = self._present(watch, tset)
            else:
                send = self._present(watch, tset, watch.new_names)
        elif tset.changed_gen > watch.sent_gen:
            touched = tset.touched_since(watch.base_gen)
            relevant = None if touched is None else {n for n in touched if watch.wants(n)}
            if relevant is None or watch.renew or (watch.info.full_state and relevant):
                send = self._present(watch, tset)
            elif relevant:
                send = self._present(watch, tset, relevant)
            else:
                watch.sent_gen = watch.base_gen = tset.changed_gen
        if send is None:
            return None
        nonce = self._next_nonce()
        watch.full, watch.new_names, watch.renew = False, set(), False
        watch.nonce = nonce
        watch.inflight = {nonce: (tset.changed_gen, tset.version, frozenset())}
        watch.sent_gen = watch.base_gen = tset.changed_gen
        watch.sent_version = tset.version
        payload = sotw_response(tset.version, watch.info.url, nonce, send)
        return Outgoing(watch.info.url, payload, nonce, tset.version, len(send))

    def _delta(self, watch: Watch, tset: TypeSet) -> Outgoing | None:
        initial = watch.sent_gen < 0
        changed = tset.changed_gen > watch.sent_gen
        if not (initial or watch.full or watch.new_names or changed):
            return None
        res = tset.resources
        send: dict[str, Encoded] = {}
        removed: set[str] = set()
        redo = watch.dirty if (changed or watch.full) else set()
        if initial or watch.full:
            known = watch.client_versions
            for item in self._present(watch, tset):
                if known.get(item.name) != item.version:
                    send[item.name] = item
            removed = {n for n in known if n not in res and watch.wants(n)}
            watch.client_versions = {}
            touched: frozenset[str] | set[str] = set()
        elif changed:
            since = tset.touched_since(watch.sent_gen)
            if since is None and watch.wildcard:
                raise TooFarBehindError(f"{watch.info.url}: stream fell too far behind")
            touched = watch.names if since is None else since
        else:
            touched = set()
        for name in (*touched, *redo):
            if watch.wants(name):
                if name in res:
                    send[name] = res[name]
                else:
                    removed.add(name)
        for name in watch.new_names:
            if name in res:
                send[name] = res[name]
        if watch.forget_gen >= 0 and (watch.full or watch.new_names or initial):
            # A re-subscription racing responses in flight: repeat removals made since then.
            since = tset.touched_since(watch.forget_gen) or frozenset()
            removed |= {n for n in since if n not in res and watch.wants(n)}
            watch.forget_gen = -1
        if redo:
            watch.dirty = set()
        watch.new_names = set()
        watch.full = False
        watch.sent_gen = watch.base_gen = tset.changed_gen
        if not (send or removed or initial):
            return None
        nonce = self._next_nonce()
        watch.nonce, watch.sent_version = nonce, tset.version
        watch.inflight[nonce] = (tset.changed_gen, tset.version, frozenset(send) | removed)
        if len(watch.inflight) > 64:  # a client that never answers: forget the oldest
            del watch.inflight[next(iter(watch.inflight))]
        items = [send[n] for n in sorted(send)]
        gone = sorted(removed)
        payload = delta_response(tset.version, watch.info.url, nonce, items, gone)
        return Outgoing(watch.info.url, payload, nonce, tset.version, len(items), len(gone))
