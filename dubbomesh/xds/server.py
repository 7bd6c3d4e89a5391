"""The grpc.aio Aggregated Discovery Service: SotW and Delta streams over TCP and a unix socket.

Why this module exists: it is the only place that imports grpc. It turns the intent stream into
snapshots (encoded once, shared), and runs every ADS stream as two small tasks: a reader feeding the
sans-IO :class:`~dubbomesh.xds.machine.StreamMachine`, and a writer that, when woken, writes what
the machine says the client still needs. A slow client blocks only its own writer, and a writer
always computes from the newest snapshot, so each stream holds at most one pending version.
Nothing is answered before the first complete intent exists.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import grpc
from anyio.abc import TaskStatus
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf.message import DecodeError

from dubbomesh.aio.latest import LatestValue
from dubbomesh.mesh.intent import MeshIntent
from dubbomesh.xds.machine import (
    Outcome,
    ProtocolError,
    RequestResult,
    StreamMachine,
    TooFarBehindError,
    Variant,
)
from dubbomesh.xds.settings import NullObserver, XdsObserver, XdsSettings
from dubbomesh.xds.snapshot import Snapshot, SnapshotBuilder
from dubbomesh.xds.types import UnknownTypeError

log = logging.getLogger(__name__)

SERVICE = "envoy.service.discovery.v3.AggregatedDiscoveryService"


class XdsServerError(RuntimeError):
    """The server cannot start (bad address, unreadable certificate): a configuration problem."""


class _Refused(Exception):
    def __init__(self, code: grpc.StatusCode, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.reason, self.detail = code, reason, detail


class _Stream:
    """One open ADS stream: its machine, wake-up event and facts for /debug/xds."""

    _ids = 0

    def __init__(self, variant: Variant, peer: str) -> None:
        _Stream._ids += 1
        self.id = _Stream._ids
        self.peer = peer
        self.machine = StreamMachine(variant)
        self.wake = asyncio.Event()
        self.opened = time.time()
        self.error: _Refused | None = None
        self.done = False

    def view(self) -> dict[str, object]:
        m = self.machine
        return {
            "id": self.id,
            "protocol": m.variant.value,
            "peer": self.peer,
            "node": m.node_id,
            "node_metadata": m.node_meta,
            "opened": self.opened,
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


class XdsServer:
    """ADS over grpc.aio. Create once; run :meth:`serve` as a task; :meth:`drain` on shutdown."""

    def __init__(self, settings: XdsSettings, *, observer: XdsObserver | None = None) -> None:
        self.settings = settings
        self.observer: XdsObserver = observer or NullObserver()
        self.addresses: tuple[str, ...] = ()
        """Bound addresses (``host:port`` with the real port, ``unix:PATH``) once serving."""
        self._snapshot: Snapshot | None = None
        self._streams: dict[int, _Stream] = {}
        self._per_peer: dict[str, int] = {}
        self._server: grpc.aio.Server | None = None
        self._delivered_gen = -1
        self._nacks = 0
        self._consumed = 0

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot streams answer from; None until the first complete intent."""
        return self._snapshot

    # -- lifecycle ---------------------------------------------------------------------------
    async def serve(
        self,
        intents: LatestValue[MeshIntent],
        *,
        task_status: TaskStatus[tuple[str, ...]] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen, then follow ``intents`` until cancelled or the cell is closed."""
        server = self._build_server()
        await server.start()
        self._server = server
        task_status.started(self.addresses)
        builder = SnapshotBuilder()
        seen = 0
        try:
            while True:
                try:
                    seen, intent = await intents.wait_newer(seen)
                except anyio.EndOfStream:
                    return
                self._consumed = seen
                if not intent.complete:
                    log.info(
                        "xds: intent %s is incomplete; keep serving the last one", intent.version
                    )
                    continue
                snapshot = await anyio.to_thread.run_sync(builder.build, intent)
                self._publish(snapshot)
        finally:
            self.observer.serving(False)
            with anyio.CancelScope(shield=True):
                await server.stop(self.settings.grace_s)

    async def drain(self) -> None:
        """Stop accepting streams and let open ones end within the grace period."""
        if self._server is not None:
            await self._server.stop(self.settings.grace_s)

    def _publish(self, snapshot: Snapshot) -> None:
        first = self._snapshot is None
        unchanged = self._snapshot is not None and self._snapshot.gen == snapshot.gen
        self._snapshot = snapshot
        if first:
            self.observer.serving(True)
            log.info("xds: serving generation %d (%s)", snapshot.gen, snapshot.intent_version)
        if unchanged or not self._streams:
            self._delivered_gen = snapshot.gen
            self.observer.delivered(snapshot.intent_version)
        for stream in self._streams.values():
            stream.wake.set()

    def _build_server(self) -> grpc.aio.Server:
        s = self.settings
        options = [
            ("grpc.keepalive_time_ms", int(s.keepalive_time_s * 1000)),
            ("grpc.keepalive_timeout_ms", int(s.keepalive_timeout_s * 1000)),
            ("grpc.keepalive_permit_without_calls", 1),
            (
                "grpc.http2.min_recv_ping_interval_without_data_ms",
                int(s.min_client_ping_interval_s * 1000),
            ),
            ("grpc.http2.max_ping_strikes", 0),
            ("grpc.max_receive_message_length", s.max_message_bytes),
            ("grpc.max_send_message_length", s.max_send_bytes),
        ]
        server = grpc.aio.server(options=options)
        handlers = {
            "StreamAggregatedResources": grpc.stream_stream_rpc_method_handler(self._sotw),
            "DeltaAggregatedResources": grpc.stream_stream_rpc_method_handler(self._delta),
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        creds = self._credentials()
        bound: list[str] = []
        targets = [a for a in s.listen if a and a != "none"]
        if s.uds:
            _remove_stale_socket(s.uds)
            targets.append(f"unix:{os.path.abspath(s.uds)}")
        for target in targets:
            try:
                port = (
                    server.add_secure_port(target, creds)
                    if creds
                    else server.add_insecure_port(target)
                )
            except RuntimeError as exc:
                raise XdsServerError(f"cannot listen on {target}: {exc}") from exc
            if target.startswith("unix:"):
                bound.append(target)
            else:
                host = target.rsplit(":", 1)[0]
                bound.append(f"{host}:{port}")
        self.addresses = tuple(bound)
        return server

    def _credentials(self) -> grpc.ServerCredentials | None:
        s = self.settings
        if not s.tls_cert:
            return None
        try:
            with open(s.tls_key, "rb") as f:
                key = f.read()
            with open(s.tls_cert, "rb") as f:
                cert = f.read()
            ca = None
            if s.tls_client_ca:
                with open(s.tls_client_ca, "rb") as f:
                    ca = f.read()
        except OSError as exc:
            raise XdsServerError(f"cannot read xDS TLS material: {exc}") from exc
        return grpc.ssl_server_credentials(
            [(key, cert)], root_certificates=ca, require_client_auth=ca is not None
        )

    # -- streams ------------------------------------------------------------------------------
    async def _sotw(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> None:
        await self._run(Variant.SOTW, requests, context)

    async def _delta(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> None:
        await self._run(Variant.DELTA, requests, context)

    async def _run(
        self, variant: Variant, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> None:
        peer = context.peer() or "?"
        s = self.settings
        if (
            len(self._streams) >= s.max_streams
            or self._per_peer.get(peer, 0) >= s.max_streams_per_peer
        ):
            self.observer.rejected("too_many_streams")
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many xDS streams")
        stream = _Stream(variant, peer)
        self._streams[stream.id] = stream
        self._per_peer[peer] = self._per_peer.get(peer, 0) + 1
        self.observer.stream_opened(variant.value)
        reader = asyncio.ensure_future(self._read(stream, requests))
        try:
            refused = await self._write_loop(stream, context)
        finally:
            reader.cancel()
            del self._streams[stream.id]
            left = self._per_peer.pop(peer) - 1
            if left:
                self._per_peer[peer] = left
            self.observer.stream_closed(variant.value)
        if refused is not None:
            self.observer.rejected(refused.reason)
            log.warning("xds: ending stream %d from %s: %s", stream.id, peer, refused.detail)
            await context.abort(refused.code, refused.detail)

    async def _write_loop(
        self, stream: _Stream, context: grpc.aio.ServicerContext
    ) -> _Refused | None:
        timeout = self.settings.write_timeout_s
        while True:
            await stream.wake.wait()
            stream.wake.clear()
            if stream.error is not None:
                return stream.error
            if stream.done:
                return None
            snapshot = self._snapshot
            if snapshot is None:
                continue
            try:
                outgoing = stream.machine.pending(snapshot)
            except TooFarBehindError as exc:
                return _Refused(grpc.StatusCode.UNAVAILABLE, "too_far_behind", str(exc))
            for out in outgoing:
                try:
                    await asyncio.wait_for(context.write(out.payload), timeout)
                except TimeoutError:
                    return _Refused(
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                        "slow_reader",
                        f"client did not read a response within {timeout:g}s",
                    )
                self.observer.push(out.type_url, out.resources)
            if outgoing and snapshot.gen > self._delivered_gen:
                self._delivered_gen = snapshot.gen
                self.observer.delivered(snapshot.intent_version)

    async def _read(self, stream: _Stream, requests: AsyncIterator[bytes]) -> None:
        try:
            async for raw in requests:
                result = self._on_request(stream, raw)
                self._report(stream, result)
                if (
                    result.outcome not in (Outcome.ACK, Outcome.STALE)
                    or stream.machine.variant is Variant.DELTA
                ):
                    stream.wake.set()
        except _Refused as exc:
            stream.error = exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the transport's failures end only this stream
            log.debug("xds: stream %d read ended: %r", stream.id, exc)
        stream.done = True
        stream.wake.set()

    def _on_request(self, stream: _Stream, raw: bytes) -> RequestResult:
        m = stream.machine
        try:
            if m.variant is Variant.SOTW:
                req = discovery_pb2.DiscoveryRequest.FromString(raw)
                self._note_node(m, req.node)
                return m.on_sotw(
                    req.type_url,
                    list(req.resource_names),
                    req.response_nonce,
                    req.error_detail.message,
                )
            dreq = discovery_pb2.DeltaDiscoveryRequest.FromString(raw)
            self._note_node(m, dreq.node)
            return m.on_delta(
                dreq.type_url,
                subscribe=list(dreq.resource_names_subscribe),
                unsubscribe=list(dreq.resource_names_unsubscribe),
                nonce=dreq.response_nonce,
                error=dreq.error_detail.message,
                initial_versions=dict(dreq.initial_resource_versions),
            )
        except DecodeError as exc:
            raise _Refused(
                grpc.StatusCode.INVALID_ARGUMENT, "malformed", f"malformed request: {exc}"
            ) from exc
        except UnknownTypeError as exc:
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, "unknown_type", str(exc)) from exc
        except ProtocolError as exc:
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, "protocol", str(exc)) from exc

    @staticmethod
    def _note_node(machine: StreamMachine, node: Any) -> None:
        if node.id and not machine.node_id:
            machine.node_id = node.id[:256]
            fields = node.metadata.fields
            machine.node_meta = {k: str(v.string_value)[:256] for k, v in list(fields.items())[:32]}

    def _report(self, stream: _Stream, result: RequestResult) -> None:
        if result.outcome is Outcome.ACK:
            self.observer.ack(result.type_url)
        elif result.outcome is Outcome.NACK:
            self._nacks += 1
            self.observer.nack(result.type_url, result.detail)
            log.warning(
                "xds: NACK of %s from %s (%s): %s",
                result.type_url,
                stream.machine.node_id or stream.peer,
                stream.peer,
                result.detail[:1000],
            )

    def debug_view(self) -> dict[str, object]:
        """JSON-ready state for /debug/xds: snapshot versions, streams, nodes, NACK counts."""
        snap = self._snapshot
        return {
            "addresses": list(self.addresses),
            "serving": snap is not None,
            "intent_generation": self._consumed,
            "snapshot": None
            if snap is None
            else {
                "generation": snap.gen,
                "intent_version": snap.intent_version,
                "stale": snap.stale,
                "types": {
                    rt.value: {"version": ts.version, "resources": len(ts.resources)}
                    for rt, ts in snap.types.items()
                },
            },
            "streams": [s.view() for s in self._streams.values()],
            "nacks_total": self._nacks,
        }


def _remove_stale_socket(path: str) -> None:
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass


__all__ = ["XdsServer", "XdsServerError"]
