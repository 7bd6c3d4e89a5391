"""``dubbomesh run`` as operators run it: a real process, a real ZooKeeper, HTTP and xDS probes.

Covers the last-known-good file (served when ZooKeeper is unreachable, marked stale), graceful
SIGTERM shutdown (bounded, state flushed), a corrupt state file (a warning, never a crash), and the
``render`` command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from envoy.service.discovery.v3 import discovery_pb2
from kazoo.client import KazooClient

from dubbomesh.agent import state
from dubbomesh.agent.localzk import LocalZooKeeper, free_port
from dubbomesh.xds.gen import istio_mcp_pb2  # generated at build time
from dubbomesh.zk.seed import seed_demo
from tests.support.zookeeper import wait_for

pytestmark = pytest.mark.integration

SE_V1 = "networking.istio.io/v1/ServiceEntry"
ADS = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"


class AgentProcess:
    """A ``dubbomesh run`` subprocess with its HTTP and xDS ports."""

    def __init__(self, zk: str, tmp: Path, *extra: str) -> None:
        self.http = f"127.0.0.1:{free_port()}"
        self.xds = f"127.0.0.1:{free_port()}"
        self.log = tmp / f"agent-{time.monotonic_ns()}.log"
        args = [
            sys.executable, "-m", "dubbomesh", "run", "--zk", zk, "--namespace", "demo",
            "--allow-loopback-endpoints", "--debounce", "0.02", "--http-listen", self.http,
            "--xds-listen", self.xds, "--zk-session-timeout", "4s", *extra,
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUBBOMESH_")}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://{self.http}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError:
            return 0, b""

    def readyz(self) -> dict[str, Any]:
        status, body = self.get("/readyz")
        return json.loads(body) if status in (200, 503) else {}

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@contextmanager
def agent(zk: str, tmp: Path, *extra: str) -> Iterator[AgentProcess]:
    proc = AgentProcess(zk, tmp, *extra)
    try:
        yield proc
    finally:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait(10)


def mcp_service_entries(addr: str) -> list[str]:
    """One istiod-style wildcard request for ServiceEntries; the resource names answered."""
    with grpc.insecure_channel(addr) as channel:
        call = channel.stream_stream(
            ADS,
            request_serializer=discovery_pb2.DiscoveryRequest.SerializeToString,
            response_deserializer=discovery_pb2.DiscoveryResponse.FromString,
        )
        req = discovery_pb2.DiscoveryRequest(type_url=SE_V1, response_nonce="1700000000")
        responses = call(iter([req]), timeout=20)
        first = next(responses)
        responses.cancel()
    names = []
    for anything in first.resources:
        res = istio_mcp_pb2.Resource()
        anything.Unpack(res)
        names.append(res.metadata.name)
    return sorted(names)


def test_sigterm_flushes_state_and_lkg_is_served_without_zookeeper(
    zk: KazooClient, zk_server: LocalZooKeeper, tmp_path: Path
) -> None:
    seed_demo(zk)
    state_file = tmp_path / "state.msgpack"
    with agent(zk_server.connect_string, tmp_path, "--state-file", str(state_file)) as a:
        wait_for(lambda: a.readyz().get("ready"), 60, "agent ready")
        fresh = a.readyz()
        assert fresh["catalog"]["stale"] is False
        live_names = mcp_service_entries(a.xds)
        assert live_names
        started = time.monotonic()
        assert a.stop() == 0, a.tail()
        assert time.monotonic() - started < 15, "graceful shutdown is bounded"
    loaded = state.load(str(state_file))
    assert loaded is not None
    assert loaded.catalog.version == fresh["catalog"]["version"]

    # ZooKeeper unreachable: the agent serves the last-known-good catalog, marked stale.
    dead = f"127.0.0.1:{free_port()}"
    with agent(dead, tmp_path, "--state-file", str(state_file)) as a:
        wait_for(lambda: a.readyz().get("ready"), 60, "agent ready from the state file")
        details = a.readyz()
        assert details["catalog"]["stale"] is True
        assert details["catalog"]["version"] == fresh["catalog"]["version"]
        assert details["registries"]["default"]["connected"] is False
        assert mcp_service_entries(a.xds) == live_names
        _, metrics = a.get("/metrics")
        assert b"dubbomesh_catalog_stale 1.0" in metrics
        age = [ln for ln in metrics.decode().splitlines()
               if ln.startswith("dubbomesh_state_file_age_seconds ")]  # fmt: skip
        assert age
        assert float(age[0].split()[1]) > 0
        assert a.stop() == 0, a.tail()
    # The stale view was never written back over the file.
    reloaded = state.load(str(state_file))
    assert reloaded is not None
    assert reloaded.written_at == loaded.written_at


def _loads(path: Path) -> bool:
    try:
        return state.load(str(path)) is not None
    except state.StateFileError:
        return False


def test_corrupt_state_file_is_a_warning_not_a_crash(
    zk: KazooClient, zk_server: LocalZooKeeper, tmp_path: Path
) -> None:
    seed_demo(zk)
    state_file = tmp_path / "state.msgpack"
    state_file.write_bytes(b"\x00not msgpack at all")
    with agent(zk_server.connect_string, tmp_path, "--state-file", str(state_file)) as a:
        wait_for(lambda: a.readyz().get("ready"), 60, "agent ready from ZooKeeper")
        details = a.readyz()
        assert "msgpack" in details["state_file_error"] or "dubbomesh" in details[
            "state_file_error"]  # fmt: skip
        assert details["catalog"]["stale"] is False
        wait_for(lambda: _loads(state_file), 30, "state file rewritten with the fresh catalog")
        assert a.stop() == 0, a.tail()


def test_debug_endpoints_and_secrets_redacted(
    zk: KazooClient, zk_server: LocalZooKeeper, tmp_path: Path
) -> None:
    seed_demo(zk)
    with agent(zk_server.connect_string, tmp_path, "--zk-auth", "someone:hunter2") as a:
        wait_for(lambda: a.readyz().get("ready"), 60, "agent ready")
        status, body = a.get("/debug/config")
        assert status == 200
        assert b"hunter2" not in body
        status, body = a.get("/debug/catalog")
        keys = {s["service_key"] for s in json.loads(body)["services"]}
        assert "g1/org.apache.dubbo.demo.DemoService:1.0.0" in keys
        assert a.get("/healthz")[0] == 200
        assert a.get("/debug/xds")[0] == 200
        assert a.get("/debug/intent")[0] == 200
        assert a.stop() == 0
        assert "hunter2" not in a.tail()


def test_render_prints_manifests(zk: KazooClient, zk_server: LocalZooKeeper) -> None:
    seed_demo(zk)
    out = subprocess.run(
        [sys.executable, "-m", "dubbomesh", "render", "--zk", zk_server.connect_string,
         "--namespace", "demo", "--allow-loopback-endpoints", "-o", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    kinds = {item["kind"] for item in doc["items"]}
    assert kinds == {"ServiceEntry"}
    hosts = {h for item in doc["items"] for h in item["spec"]["hosts"]}
    assert "org.apache.dubbo.demo.greetingservice.dubbo" in hosts
    assert all(item["metadata"]["namespace"] == "demo" for item in doc["items"])


def test_render_fails_cleanly_without_zookeeper() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dubbomesh", "render", "--zk", f"127.0.0.1:{free_port()}",
         "--timeout", "2"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 1
    assert "no complete listing" in out.stderr
    assert "Traceback" not in out.stderr


def test_busy_xds_port_is_a_clear_exit(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "dubbomesh", "run", "--zk", f"127.0.0.1:{free_port()}",
             "--http-listen", "none", "--xds-listen", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "Traceback" not in out.stderr


def test_unusable_kubeconfig_is_reported_while_xds_keeps_serving(
    zk: KazooClient, zk_server: LocalZooKeeper, tmp_path: Path
) -> None:
    seed_demo(zk)
    missing = str(tmp_path / "no-kubeconfig")
    with agent(zk_server.connect_string, tmp_path, "--sink", "kubernetes",
               "--kubeconfig", missing) as a:  # fmt: skip
        wait_for(lambda: a.readyz().get("ready"), 60, "agent ready (xDS does not need the API)")
        assert "credentials" in a.readyz()["kubernetes"]["last_error"]
        assert mcp_service_entries(a.xds)
        assert a.proc.poll() is None
        assert a.stop() == 0, a.tail()


def test_demo_once_publishes_the_sample_providers(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dubbomesh", "demo", "--once", "--output-dir", str(tmp_path),
         "--http-listen", f"127.0.0.1:{free_port()}", "--xds-listen", f"127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "g1/org.apache.dubbo.demo.DemoService:1.0.0: dubbo://127.0.0.2:20881" in text
    assert "127.0.0.3" not in text.split("== catalog", 1)[1], "the override disables .3"
    assert "org.apache.dubbo.demo.AppService: tri://127.0.0.4:50052" in text
    assert "hosts=['org.apache.dubbo.demo.greetingservice.dubbo']" in text
    assert list(tmp_path.glob("serviceentry-*.yaml"))
