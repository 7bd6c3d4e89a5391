"""Bad input ends only the offending stream with a clear status; everyone else is still served."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import grpc
import pytest

from dubbomesh.xds.settings import XdsSettings
from dubbomesh.xds.types import CLUSTER, ENDPOINT, LISTENER, ROUTE
from tests.xds.clients import SOTW, Running, SotwClient, poll, running_server
from tests.xds.helpers import intent, many, sotw_request

pytestmark = pytest.mark.anyio


async def healthy(run: Running) -> None:
    """A fresh stream is still answered."""
    client = SotwClient(run.channel())
    client.send(sotw_request(CLUSTER))
    resp = await client.recv()
    assert resp.type_url == CLUSTER
    client.call.cancel()


async def ended(call: grpc.aio.StreamStreamCall) -> tuple[grpc.StatusCode, str]:
    code = await asyncio.wait_for(call.code(), 20)
    return code, await call.details()


async def no_sessions(run: Running) -> None:
    await poll(lambda: run.server.debug_view()["streams"] == [], "every stream to be released")


async def test_unknown_type_url_ends_that_stream_only() -> None:
    async with running_server(first=intent(*many(2))) as run:
        good = SotwClient(run.channel())
        good.send(sotw_request(CLUSTER))
        await good.recv()
        bad = SotwClient(run.channel())
        bad.send(sotw_request("type.googleapis.com/acme.Unknown"))
        code, details = await ended(bad.call)
        assert code is grpc.StatusCode.INVALID_ARGUMENT
        assert "unknown xDS type URL" in details
        await healthy(run)
        good.call.cancel()
        await no_sessions(run)


async def test_garbage_request_is_invalid_argument() -> None:
    async with running_server(first=intent(*many(2))) as run:
        raw = run.channel().stream_stream(SOTW)  # bytes in, bytes out

        async def junk():  # type: ignore[no-untyped-def]
            yield b"\xff\xff\xff\xff\x0f"

        call = raw(junk())
        code, details = await ended(call)
        assert code is grpc.StatusCode.INVALID_ARGUMENT
        assert "malformed" in details
        await healthy(run)


async def test_oversized_request_is_refused() -> None:
    settings = XdsSettings(listen=("127.0.0.1:0",), max_message_bytes=4096)
    async with running_server(settings, first=intent(*many(2))) as run:
        bad = SotwClient(run.channel())
        bad.send(sotw_request(ENDPOINT, [f"outbound|1||host{i}.example" for i in range(500)]))
        code, _ = await ended(bad.call)
        assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
        await healthy(run)
        await no_sessions(run)


async def test_a_client_opening_1000_streams_gets_resource_exhausted_beyond_the_limit() -> None:
    settings = XdsSettings(listen=("127.0.0.1:0",), max_streams_per_peer=50)
    async with running_server(settings, first=intent(*many(2))) as run:
        channel = run.channel()
        clients = [SotwClient(channel) for _ in range(1000)]
        for c in clients:
            c.send(sotw_request(CLUSTER))

        async def ended() -> Counter[grpc.StatusCode]:
            return Counter([await c.call.code() for c in clients if c.call.done()])

        try:
            await poll(
                lambda: sum(c.call.done() for c in clients) >= 950, "950 ended streams", deadline=60
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; ended so far: {dict(await ended())}") from None
        assert await ended() == {grpc.StatusCode.RESOURCE_EXHAUSTED: 950}
        assert len(run.server.debug_view()["streams"]) == 50  # type: ignore[arg-type]
        for c in clients:
            c.call.cancel()
        await no_sessions(run)
        await healthy(run)


async def test_a_client_that_never_reads_is_ended_and_others_keep_going() -> None:
    settings = XdsSettings(listen=("127.0.0.1:0",), write_timeout_s=1.0)
    async with running_server(settings, first=intent(*many(2000, endpoints=4))) as run:
        # Without BDP probing the client's flow-control window stays small, like a stuck reader's.
        stuck_channel = grpc.aio.insecure_channel(
            run.address, options=[("grpc.http2.bdp_probe", 0)]
        )
        run.channels.append(stuck_channel)
        stuck = SotwClient(stuck_channel)
        for type_url in (CLUSTER, ENDPOINT, LISTENER, ROUTE):
            stuck.send(sotw_request(type_url))
        await healthy(run)
        # The server gives up on the stuck stream and releases it while others keep being served.
        await no_sessions(run)
        await healthy(run)
        # Once the client reads, it finds the status after the data it left unread.
        with contextlib.suppress(grpc.aio.AioRpcError):
            while await asyncio.wait_for(stuck.call.read(), 20) is not grpc.aio.EOF:
                pass
        code, details = await ended(stuck.call)
        assert code is grpc.StatusCode.DEADLINE_EXCEEDED
        assert "did not read" in details
