"""Echo providers and the proxyless grpcio client subprocess for end-to-end xDS tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[2]


def start_echo(name: str, port: int = 0) -> tuple[grpc.Server, int]:
    """A real gRPC server on 127.0.0.1 answering /test.Echo/Whoami with ``name``."""

    def whoami(request: bytes, context: grpc.ServicerContext) -> bytes:
        return name.encode()

    handler = grpc.method_handlers_generic_handler(
        "test.Echo", {"Whoami": grpc.unary_unary_rpc_method_handler(whoami)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


def bootstrap(xds_address: str) -> str:
    return json.dumps(
        {
            "xds_servers": [
                {
                    "server_uri": xds_address,
                    "channel_creds": [{"type": "insecure"}],
                    "server_features": ["xds_v3"],
                }
            ],
            "node": {
                "id": "sidecar~127.0.0.1~test.default~default.svc.cluster.local",
                "cluster": "test",
                "metadata": {"GENERATOR": "grpc"},
            },
        }
    )


class ClientProcess:
    """Reads the subprocess's lines in a thread; the test polls :attr:`lines`."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_for(self, predicate: object, what: str, deadline: float = 30.0) -> None:
        """Poll (bounded) until ``predicate(lines)`` holds; on timeout show the tail."""
        assert callable(predicate)
        end = time.monotonic() + deadline
        while not predicate(self.lines):
            if time.monotonic() > end or self.proc.poll() is not None:
                tail = "\n".join(self.lines[-10:])
                raise AssertionError(f"timed out waiting for {what}; last lines:\n{tail}")
            time.sleep(0.02)


@contextmanager
def xds_client(xds_address: str, target: str) -> Iterator[ClientProcess]:
    env = dict(os.environ, GRPC_XDS_BOOTSTRAP_CONFIG=bootstrap(xds_address), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.xds.grpc_xds_client", target],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        yield ClientProcess(proc)
    finally:
        proc.kill()
        proc.wait()
