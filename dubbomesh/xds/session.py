"""One ADS stream's life: decode requests into the machine, write what it says is pending.

Why this module exists: the server module owns grpc; this one owns the per-stream concurrency,
with the transport reduced to two callables (an async iterator of request bytes, an async write).
Each stream has a reader task and a writer loop that wakes on requests or new snapshots and
always computes from the newest snapshot, so a slow client holds at most one pending version and
never delays anyone else. Refusals carry a gRPC status NAME so this module never imports grpc.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf.message import DecodeError

from dubbomesh.xds.machine import (
    Outcome,
    ProtocolError,
    RequestResult,
    StreamMachine,
    TooFarBehindError,
    Variant,
)
from dubbomesh.xds.settings import XdsObserver
from dubbomesh.xds.snapshot import Snapshot
from dubbomesh.xds.types import UnknownTypeError
from dubbomesh.xds.wire import match_ack, names_block

log = logging.getLogger("dubbomesh.xds")

NAMES_KEY_MIN = 2048
"""SotW requests at least this big have their names block remembered (see wire.match_ack);
smaller ones decode faster than they compare."""


class Refused(Exception):
    """Why a stream must end: a gRPC status name, a metrics reason and a message for the client."""

    def __init__(self, status: str, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


class Session:
    """One open ADS stream: machine, wake-up event, and the facts /debug/xds shows."""

    _ids = 0

    def __init__(self, variant: Variant, peer: str, observer: XdsObserver) -> None:
        Session._ids += 1
        self.id = Session._ids
        self.peer = peer
        self.machine = StreamMachine(variant)
        self.observer = observer
        self.wake = asyncio.Event()
        self.opened = time.time()
        self.error: Refused | None = None
        self.done = False
        self.nacks = 0
        self.writing_since: float | None = None
        """``time.monotonic()`` when the write in progress started (None: not writing)."""
        self._task: asyncio.Task[Any] | None = None
        self._expired = False

    def expire_if_stuck(self, now: float, timeout: float) -> bool:
        """End the stream when its write has waited ``timeout`` seconds for the client (called
        by the server's watchdog with ``time.monotonic()``); True when it did."""
        since = self.writing_since
        if since is None or now - since < timeout or self._task is None or self._expired:
            return False
        self._expired = True
        self._task.cancel()  # the write loop turns this into DEADLINE_EXCEEDED
        return True

    async def run(
        self,
        requests: AsyncIterator[bytes],
        write: Callable[[bytes], Awaitable[None]],
        current: Callable[[], Snapshot | None],
        *,
        write_timeout: float,
        delivered: Callable[[Snapshot], None],
    ) -> Refused | None:
        """Serve until the client half-closes (None) or the stream must end (a Refused).

        Call from the task that owns the stream: :meth:`expire_if_stuck` cancels it."""
        self._task = asyncio.current_task()
        reader = asyncio.ensure_future(self._read(requests))
        try:
            return await self._write_loop(write, current, write_timeout, delivered)
        finally:
            reader.cancel()

    async def _write_loop(
        self,
        write: Callable[[bytes], Awaitable[None]],
        current: Callable[[], Snapshot | None],
        write_timeout: float,
        delivered: Callable[[Snapshot], None],
    ) -> Refused | None:
        timeout = write_timeout
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.error is not None:
                return self.error
            if self.done:
                return None
            snapshot = current()
            if snapshot is None:
                continue  # nothing is answered before the first complete intent
            try:
                outgoing = self.machine.pending(snapshot)
            except TooFarBehindError as exc:
                return Refused("UNAVAILABLE", "too_far_behind", str(exc))
            for out in outgoing:
                self.writing_since = time.monotonic()
                try:
                    await write(out.payload)
                except asyncio.CancelledError:
                    if not self._expired:
                        raise
                    task = asyncio.current_task()
                    if task is not None:
                        task.uncancel()  # our own cancellation, consumed here
                    detail = f"client did not read a response within {timeout:g}s"
                    return Refused("DEADLINE_EXCEEDED", "slow_reader", detail)
                finally:
                    self.writing_since = None
                self.observer.push(out.type_url, out.resources)
            if outgoing:
                delivered(snapshot)

    async def _read(self, requests: AsyncIterator[bytes]) -> None:
        try:
            async for raw in requests:
                result = self.on_request(raw)
                self._report(result)
                if result.wake:  # an ACK never causes a push: do not wake the writer for it
                    self.wake.set()
        except Refused as exc:
            self.error = exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the transport's failures end only this stream
            log.debug("xds: stream %d read ended: %r", self.id, exc)
        self.done = True
        self.wake.set()

    def on_request(self, raw: bytes) -> RequestResult:
        """Decode one request and feed it to the machine; raise :class:`Refused` on bad input."""
        m = self.machine
        try:
            if m.variant is Variant.SOTW:
                if len(raw) >= NAMES_KEY_MIN:
                    for type_url, block in m.names_keys():
                        nonce = match_ack(raw, type_url, block)
                        if nonce is not None:  # same names as applied: nothing to decode
                            return m.on_sotw(type_url, None, nonce)
                req = discovery_pb2.DiscoveryRequest.FromString(raw)
                self._note_node(req.node)
                key = b""
                if len(raw) >= NAMES_KEY_MIN and not req.HasField("error_detail"):
                    key = names_block(raw, req.type_url, req.response_nonce)
                return m.on_sotw(
                    req.type_url,
                    list(req.resource_names),
                    req.response_nonce,
                    req.error_detail.message,
                    names_key=key,
                )
            dreq = discovery_pb2.DeltaDiscoveryRequest.FromString(raw)
            self._note_node(dreq.node)
            return m.on_delta(
                dreq.type_url,
                subscribe=list(dreq.resource_names_subscribe),
                unsubscribe=list(dreq.resource_names_unsubscribe),
                nonce=dreq.response_nonce,
                error=dreq.error_detail.message,
                initial_versions=dict(dreq.initial_resource_versions),
            )
        except DecodeError as exc:
            raise Refused("INVALID_ARGUMENT", "malformed", f"malformed request: {exc}") from exc
        except UnknownTypeError as exc:
            raise Refused("INVALID_ARGUMENT", "unknown_type", str(exc)) from exc
        except ProtocolError as exc:
            raise Refused("INVALID_ARGUMENT", "protocol", str(exc)) from exc

    def _note_node(self, node: Any) -> None:
        m = self.machine
        if node.id and not m.node_id:
            m.node_id = node.id[:256]
            fields = node.metadata.fields
            m.node_meta = {k: str(v.string_value)[:256] for k, v in list(fields.items())[:32]}

    def _report(self, result: RequestResult) -> None:
        if result.outcome is Outcome.ACK:
            self.observer.ack(result.type_url)
        elif result.outcome is Outcome.NACK:
            self.nacks += 1
            self.observer.nack(result.type_url, result.detail)
            who = self.machine.node_id or self.peer
            log.warning(
                "xds: NACK of %s from %s (%s): %s",
                result.type_url,
                who,
                self.peer,
                result.detail[:1000],
            )

    def view(self) -> dict[str, object]:
        """JSON-ready state of this stream."""
        m = self.machine
        return {
            "id": self.id,
            "protocol": m.variant.value,
            "peer": self.peer,
            "node": m.node_id,
            "node_metadata": m.node_meta,
            "opened": self.opened,
            "nacks": self.nacks,
            "types": {
                url: {
                    "wildcard": w.wildcard,
                    "names": len(w.names),
                    "nonce": w.nonce,
                    "sent_version": w.sent_version,
                    "acked_version": w.acked_version,
                    "acks": w.acks,
                    "nacks": w.nacks,
                    "last_nack": w.last_nack,
                }
                for url, w in m.watches.items()
            },
        }
