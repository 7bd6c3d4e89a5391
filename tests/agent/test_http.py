"""The health/debug HTTP server answers on the event loop, rejects junk, survives handler bugs."""

from __future__ import annotations

import anyio
import pytest

from dubbomesh.agent.http import Response, serve_http

pytestmark = pytest.mark.anyio


async def _request(port: int, raw: bytes) -> bytes:
    async with await anyio.connect_tcp("127.0.0.1", port) as s:
        await s.send(raw)
        data = b""
        try:
            while True:
                data += await s.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            pass
    return data


async def test_routes_and_errors() -> None:
    async def ok() -> Response:
        return Response.json({"ready": True})

    async def broken() -> Response:
        raise RuntimeError("bug")

    routes = {"/readyz": ok, "/boom": broken}
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_http, "127.0.0.1:0", routes)
        with anyio.fail_after(10):
            assert b'"ready": true' in await _request(port, b"GET /readyz HTTP/1.1\r\n\r\n")
            assert b"404" in (await _request(port, b"GET /nope HTTP/1.1\r\n\r\n")).split(b"\r\n")[0]
            assert b" 500 " in await _request(port, b"GET /boom HTTP/1.1\r\n\r\n")
            assert b" 405 " in await _request(port, b"POST /readyz HTTP/1.1\r\n\r\n")
            assert b" 400 " in await _request(port, b"garbage\r\n\r\n")
            assert b" 400 " in await _request(port, b"GET /" + b"a" * 9000 + b"\r\n\r\n")
            # still serving after all of that
            assert b" 200 " in await _request(port, b"GET /readyz?x=1 HTTP/1.0\r\n\r\n")
        tg.cancel_scope.cancel()
