"""The grpc.aio Aggregated Discovery Service: SotW and Delta streams over TCP and a unix socket.

Why this module exists: it is the only place that imports grpc. It turns the intent stream into
snapshots (encoded once, shared by every stream), admits streams (limits in total and per peer),
and hands each one to a :class:`~dubbomesh.xds.session.Session`; it maps a session's refusal to a
gRPC status. Keepalive options let istiod's 30 s pings through. Nothing is answered before the
first complete intent exists.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import AsyncIterator

import anyio
import grpc
from anyio.abc import TaskStatus

from dubbomesh.aio.gcpolicy import GcPolicy
from dubbomesh.aio.latest import LatestValue
from dubbomesh.mesh.intent import MeshIntent
from dubbomesh.xds.machine import Variant
from dubbomesh.xds.session import Session
from dubbomesh.xds.settings import NullObserver, XdsObserver, XdsSettings
from dubbomesh.xds.snapshot import Snapshot, SnapshotBuilder

log = logging.getLogger(__name__)

SERVICE = "envoy.service.discovery.v3.AggregatedDiscoveryService"
INLINE_CHANGES = 200
"""Rebuilds touching at most this many objects run on the event loop; bigger ones in a thread."""


class XdsServerError(RuntimeError):
    """The server cannot start (bad address, unreadable certificate): a configuration problem."""


class XdsServer:
    """ADS over grpc.aio. Create once; run :meth:`serve` as a task; :meth:`drain` on shutdown."""

    def __init__(
        self,
        settings: XdsSettings,
        *,
        observer: XdsObserver | None = None,
        gc_policy: GcPolicy | None = None,
    ) -> None:
        """``gc_policy``: when given, its ``published()`` runs after each snapshot is built and
        before the streams are woken, so the pushes' young collections do not walk the new
        intent and snapshot (see :mod:`dubbomesh.aio.gcpolicy`). A process-wide choice: the
        composition root decides, None leaves the collector alone."""
        self.settings = settings
        self.observer: XdsObserver = observer or NullObserver()
        self.gc_policy = gc_policy
        self.addresses: tuple[str, ...] = ()
        """Bound addresses (``host:port`` with the real port, ``unix:PATH``) once serving."""
        self._snapshot: Snapshot | None = None
        self._sessions: dict[int, Session] = {}
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
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._watchdog)
                await self._follow(intents)
                tg.cancel_scope.cancel()
        finally:
            self.observer.serving(False)
            with anyio.CancelScope(shield=True):
                await server.stop(self.settings.grace_s)

    async def _follow(self, intents: LatestValue[MeshIntent]) -> None:
        builder = SnapshotBuilder()
        seen = 0
        while True:
            try:
                seen, intent = await intents.wait_newer(seen)
            except anyio.EndOfStream:
                return
            self._consumed = seen
            if not intent.complete:
                log.info("xds: intent %s is incomplete; keep serving the last one", intent.version)
                continue
            if builder.changes(intent) <= INLINE_CHANGES:
                snapshot = builder.build(intent)  # a few ms: a thread hop would cost more
            else:  # a big rebuild must not stall every stream's event loop
                snapshot = await anyio.to_thread.run_sync(builder.build, intent)
            if self.gc_policy is not None and snapshot is not self._snapshot:
                self.gc_policy.published()
            self._publish(snapshot)

    async def _watchdog(self) -> None:
        """End streams whose client has not taken a response for ``write_timeout_s``: one timer
        for every stream instead of one per write (which cost a quarter of a push's own work)."""
        timeout = self.settings.write_timeout_s
        while True:
            await anyio.sleep(min(1.0, timeout / 4))
            now = time.monotonic()
            for session in list(self._sessions.values()):
                session.expire_if_stuck(now, timeout)

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
        if unchanged or not self._sessions:
            self._delivered_gen = snapshot.gen
            self.observer.delivered(snapshot.intent_version)
        for stream in self._sessions.values():
            stream.wake.set()

    def _build_server(self) -> grpc.aio.Server:
        s = self.settings
        server = grpc.aio.server(options=server_options(s))
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
            len(self._sessions) >= s.max_streams
            or self._per_peer.get(peer, 0) >= s.max_streams_per_peer
        ):
            self.observer.rejected("too_many_streams")
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many xDS streams")
        # The slot is taken before the first await: streams arriving together must not all pass
        # the check above while the first ones are still sending their headers.
        session = Session(variant, peer, self.observer)
        self._sessions[session.id] = session
        self._per_peer[peer] = self._per_peer.get(peer, 0) + 1
        self.observer.stream_opened(variant.value)
        try:
            # Headers go out now: a later abort then needs only a status op, which core accepts
            # even while a write to a client that stopped reading is still pending.
            await context.send_initial_metadata(())
            refused = await session.run(
                requests,
                context.write,
                lambda: self._snapshot,
                write_timeout=s.write_timeout_s,
                delivered=self._delivered,
            )
        finally:
            del self._sessions[session.id]
            self._nacks += session.nacks
            left = self._per_peer.pop(peer) - 1
            if left:
                self._per_peer[peer] = left
            self.observer.stream_closed(variant.value)
        if refused is not None:
            self.observer.rejected(refused.reason)
            log.warning("xds: ending stream %d from %s: %s", session.id, peer, refused.detail)
            await context.abort(grpc.StatusCode[refused.status], refused.detail)

    def _delivered(self, snapshot: Snapshot) -> None:
        if snapshot.gen > self._delivered_gen:
            self._delivered_gen = snapshot.gen
            self.observer.delivered(snapshot.intent_version)

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
            "streams": [s.view() for s in self._sessions.values()],
            "nacks_total": self._nacks + sum(s.nacks for s in self._sessions.values()),
        }


def server_options(s: XdsSettings) -> list[tuple[str, int]]:
    """grpc server options: keepalive that tolerates idle client pings, message size limits."""
    return [
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


def _remove_stale_socket(path: str) -> None:
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass


__all__ = ["XdsServer", "XdsServerError"]
