"""A tiny HTTP/1.1 server on the agent's event loop for health, metrics and debug endpoints.

Why this module exists: ``/healthz`` must prove that the EVENT LOOP is alive, so it is answered by
a task on that loop (a server thread would answer even when the loop is wedged). The endpoints are
few and read-only, so a small GET-only server is simpler and safer than a web framework: it binds to
loopback by default, reads at most a few KiB per request and closes every connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import anyio
from anyio.abc import SocketStream, TaskStatus

log = logging.getLogger(__name__)

MAX_REQUEST = 8192
READ_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Response:
    """A complete HTTP response."""

    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, data: object, status: int = 200) -> Response:
        """A JSON response (pretty enough for humans with curl)."""
        return cls(status, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        """A text response."""
        return cls(status, text.encode(), content_type + "; charset=utf-8")


Handler = Callable[[], Awaitable[Response]]
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


async def _read_head(stream: SocketStream) -> bytes:
    data = b""
    with anyio.fail_after(READ_TIMEOUT):
        while b"\r\n\r\n" not in data and b"\n\n" not in data:
            chunk = await stream.receive(4096)
            data += chunk
            if len(data) > MAX_REQUEST:
                break
    return data


async def _serve_one(stream: SocketStream, routes: Mapping[str, Handler]) -> None:
    async with stream:
        try:
            head = await _read_head(stream)
        except (TimeoutError, anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            return
        line = head.split(b"\n", 1)[0].decode("latin-1").strip()
        parts = line.split(" ")
        if len(parts) != 3 or len(head) > MAX_REQUEST:
            response = Response.text("bad request\n", 400)
        elif parts[0] not in ("GET", "HEAD"):
            response = Response.text("only GET\n", 405)
        else:
            path = parts[1].split("?", 1)[0]
            handler = routes.get(path)
            if handler is None:
                response = Response.text("not found; try " + " ".join(sorted(routes)) + "\n", 404)
            else:
                try:
                    response = await handler()
                except Exception:
                    log.exception("HTTP handler for %s failed", path)
                    response = Response.text("internal error\n", 500)
        body = b"" if parts[0] == "HEAD" else response.body
        header = (
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'OK')}\r\n"
            f"Content-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        try:
            await stream.send(header + body)
        except (anyio.BrokenResourceError, OSError):
            return


def split_hostport(addr: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 in brackets) into parts."""
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


async def serve_http(
    listen: str,
    routes: Mapping[str, Handler],
    *,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``routes`` on ``listen`` until cancelled; reports the bound port when started."""
    host, port = split_hostport(listen)
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, reuse_port=False)
    bound = listener.extra(anyio.abc.SocketAttribute.local_port)
    log.info("health/metrics/debug HTTP on %s:%d", host, bound)
    task_status.started(bound)
    async with listener:
        await listener.serve(lambda s: _serve_one(s, routes))
