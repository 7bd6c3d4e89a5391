"""The stream limits hold when streams arrive together.

Each stream handler checks the limits, then sends its headers (an await) before it runs. Streams
that arrive in one burst are handled concurrently; if a slot were taken only after that await,
all of them would pass the check and the limit would be exceeded (seen once in CI: of 1,000
streams from one peer with a limit of 50, never exactly 950 were refused). Here the handler runs
against a context whose header write yields to the event loop, as a real one can, so the
interleaving is the worst case.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from dubbomesh.xds.machine import Variant
from dubbomesh.xds.server import XdsServer
from dubbomesh.xds.settings import XdsSettings

pytestmark = pytest.mark.anyio


class Aborted(Exception):
    """What grpc.aio's ``context.abort`` raises to end the handler."""


class YieldingContext:
    """The parts of ``grpc.aio.ServicerContext`` the handler uses, with a header write that
    gives every other handler a turn before it completes."""

    def __init__(self, peer: str) -> None:
        self._peer = peer
        self.code: grpc.StatusCode | None = None

    def peer(self) -> str:
        return self._peer

    async def send_initial_metadata(self, metadata: object) -> None:
        for _ in range(3):
            await asyncio.sleep(0)

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        raise Aborted(details)

    async def write(self, message: object) -> None:
        await asyncio.sleep(0)


async def silent() -> AsyncIterator[bytes]:
    """A client that opened its stream and has not sent a request yet."""
    await asyncio.Event().wait()
    yield b""  # pragma: no cover - never reached


async def burst(server: XdsServer, peers: list[str]) -> tuple[int, list[YieldingContext]]:
    """Open one stream per entry of ``peers`` at once; (streams running, contexts)."""
    contexts = [YieldingContext(p) for p in peers]
    tasks = [
        asyncio.create_task(server._run(Variant.SOTW, silent(), ctx))  # type: ignore[arg-type]
        for ctx in contexts
    ]
    for _ in range(20):  # every handler has passed its header write
        await asyncio.sleep(0)
    running = sum(not t.done() for t in tasks)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return running, contexts


async def test_a_burst_from_one_peer_gets_exactly_its_limit() -> None:
    server = XdsServer(XdsSettings(listen=("127.0.0.1:0",), max_streams_per_peer=5))
    running, contexts = await burst(server, ["ipv4:127.0.0.1:4000"] * 40)
    assert running == 5
    assert [c.code for c in contexts].count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 35
    assert server.debug_view()["streams"] == []  # every slot is given back


async def test_a_burst_from_many_peers_gets_exactly_the_server_limit() -> None:
    settings = XdsSettings(listen=("127.0.0.1:0",), max_streams=7, max_streams_per_peer=5)
    server = XdsServer(settings)
    running, contexts = await burst(server, [f"ipv4:127.0.0.1:{4000 + i}" for i in range(30)])
    assert running == 7
    assert [c.code for c in contexts].count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 23
