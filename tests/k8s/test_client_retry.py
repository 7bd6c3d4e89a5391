"""The client's failure policy on a scripted loopback HTTP server (a unit test of the policy only;
every integration test uses the real API server): 429 and 5xx are retried with backoff, 409 is
handed back to the caller, transport errors say "unreachable", the token bucket is applied."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes import client as kclient

from dubbomesh.k8s import errors
from dubbomesh.k8s.client import KubeClient
from dubbomesh.k8s.observer import CountingObserver
from dubbomesh.k8s.settings import K8sSettings

pytestmark = pytest.mark.anyio


class Script:
    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, object]]] = []
        self.seen: list[str] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.seen_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            script.seen.append(f"{self.command} {self.path} {self.headers.get('Content-Type')}")
            status, body = script.answers.pop(0) if script.answers else (200, {})
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_PATCH = do_PUT = do_DELETE = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def make(url: str, **kw: object) -> tuple[KubeClient, CountingObserver]:
    cfg = kclient.Configuration()
    cfg.host = url
    cfg.retries = False
    settings = K8sSettings(namespace="ns", backoff_initial=0.001, backoff_cap=0.01, **kw)  # type: ignore[arg-type]
    obs = CountingObserver()
    return KubeClient(settings, obs, configuration=cfg), obs


async def test_429_and_5xx_are_retried(server: tuple[str, Script]) -> None:
    url, script = server
    kc, obs = make(url)
    script.answers = [(429, {"reason": "TooManyRequests"}), (503, {}), (200, {"ok": True})]
    assert await kc.call("GET", "/api/v1/x") == {"ok": True}
    assert obs.requests["GET"] == 3
    assert obs.reachable is True


async def test_attempts_are_capped(server: tuple[str, Script]) -> None:
    url, script = server
    kc, _ = make(url, max_attempts=3)
    script.answers = [(500, {"message": "boom"})] * 5
    with pytest.raises(errors.ServerError, match="boom"):
        await kc.call("GET", "/api/v1/x")
    assert len(script.seen) == 3


async def test_conflicts_go_back_to_the_caller(server: tuple[str, Script]) -> None:
    url, script = server
    kc, _ = make(url)
    script.answers = [(409, {"reason": "Conflict", "message": "changed"})]
    with pytest.raises(errors.Conflict):
        await kc.call("PUT", "/api/v1/x", body={"a": 1})
    assert script.seen == ["PUT /api/v1/x application/json"]


async def test_apply_patch_content_type(server: tuple[str, Script]) -> None:
    url, script = server
    kc, _ = make(url)
    await kc.call(
        "PATCH",
        "/apis/g/v1/x",
        query=[("fieldManager", "dubbomesh"), ("force", "false")],
        body={"a": 1},
        content_type="application/apply-patch+yaml",
    )
    assert script.seen == [
        "PATCH /apis/g/v1/x?fieldManager=dubbomesh&force=false application/apply-patch+yaml"
    ]


async def test_unreachable_server() -> None:
    kc, obs = make("http://127.0.0.1:1", max_attempts=2)
    with pytest.raises(errors.Unreachable):
        await kc.call("GET", "/api/v1/x")
    assert obs.reachable is False
