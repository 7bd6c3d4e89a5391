"""A real istiod (pilot-discovery) run standalone against the agent's MCP-over-xDS stream.

Why this module exists: only the real istiod proves that our stream is what istiod consumes (type
URLs, resource names, readiness). It runs without Kubernetes (``--registries=`` and a mesh config
whose only config source is ``xds://<agent>``) and without a CA (``ENABLE_CA_SERVER=false``), on
free loopback ports; its debug endpoints are read over HTTP.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubbomesh.agent.localzk import free_port
from tests.conformance.peers import LOG_DIR, PEERS, Process, build_info, http_get, wait_until


@dataclass
class Istiod:
    """One pilot-discovery process reading config only from ``config_source`` (``host:port``)."""

    peer: str
    config_source: str
    namespace: str = "istio-system"
    grpc_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    monitoring_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    kubeconfig: Path | None = None
    """None: standalone (``--registries=``). Else a real API server: ``--registries=Kubernetes``,
    still with our xDS stream as the ONLY config source (istiod at the pinned commits panics
    without a Kubernetes client, see docs/compatibility.md)."""
    process: Process | None = None

    @property
    def xds_address(self) -> str:
        """Plaintext xDS (proxies and proxyless gRPC clients)."""
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def info(self) -> dict[str, str]:
        return build_info(self.peer)

    def mesh_config(self) -> str:
        return "\n".join(
            [
                f"rootNamespace: {self.namespace}",
                "defaultConfig:",
                f"  discoveryAddress: {self.xds_address}",
                "configSources:",
                f"- address: xds://{self.config_source}",
                "",
            ]
        )

    def start(self, timeout: float = 120.0) -> Istiod:
        binary = PEERS / self.peer / "bin" / "pilot-discovery"
        build_info(self.peer)
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        mesh = LOG_DIR / f"mesh-{self.peer}-{self.grpc_port}.yaml"
        mesh.write_text(self.mesh_config())
        registries = "--registries=" if self.kubeconfig is None else "--registries=Kubernetes"
        argv = [
            str(binary), "discovery",
            registries,
            f"--meshConfig={mesh}",
            f"--grpcAddr=127.0.0.1:{self.grpc_port}",
            f"--httpAddr=127.0.0.1:{self.http_port}",
            f"--monitoringAddr=127.0.0.1:{self.monitoring_port}",
            f"--httpsAddr=127.0.0.1:{self.https_port}",
            "--secureGRPCAddr=",
            "--domain=cluster.local",
            "--keepaliveMaxServerConnectionAge=30m",
        ]  # fmt: skip
        if self.kubeconfig is not None:
            argv += [f"--kubeconfig={self.kubeconfig}", "--clusterID=Kubernetes"]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(LOG_DIR),
            "POD_NAMESPACE": self.namespace,
            "POD_NAME": f"istiod-{self.grpc_port}",
            "ENABLE_CA_SERVER": "false",
            "PILOT_ENABLE_AMBIENT": "false",
            "CLUSTER_ID": "Kubernetes",
            "REVISION": "default",
            "PILOT_ENABLE_XDS_CACHE": "false",
        }
        self.process = Process(self.peer, argv, env=env, cwd=LOG_DIR).start()
        wait_until(self._ready, timeout, f"{self.peer} /ready", interval=0.25)
        return self

    def _ready(self) -> bool:
        if self.process is not None and not self.process.alive:
            raise AssertionError(f"{self.peer} exited:\n{self.process.log_tail(60)}")
        http_get(f"http://127.0.0.1:{self.http_port}/ready", timeout=2)
        return True

    def debug(self, path: str) -> Any:
        return json.loads(http_get(f"http://127.0.0.1:{self.http_port}/debug/{path}", timeout=10))

    def configz(self, kind: str = "ServiceEntry") -> list[dict[str, Any]]:
        """/debug/configz entries of ``kind`` (kind is read from the entry's type metadata)."""
        out = []
        for entry in self.debug("configz"):
            meta_kind = entry.get("kind") or entry.get("type", {}).get("kind") or ""
            if meta_kind.endswith(kind):
                out.append(entry)
        return out

    def registry_hosts(self) -> dict[str, dict[str, Any]]:
        """/debug/registryz keyed by hostname."""
        return {s["hostname"]: s for s in self.debug("registryz")}

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    @property
    def log_path(self) -> Path | None:
        return self.process.log_path if self.process else None


NO_KUBE_PANIC = "multicluster.(*Controller).ConfigCluster"
"""The stack frame of istiod's nil-pointer panic when it runs without any Kubernetes client: the
krt ServiceEntry controller reads namespaces from the config cluster unconditionally."""


def probe_standalone(peer: str, config_source: str, timeout: float = 120.0) -> str:
    """Start ``peer`` standalone once: "" when it becomes ready, else the reason it cannot."""
    server = Istiod(peer, config_source)
    try:
        server.start(timeout)
    except (AssertionError, TimeoutError) as exc:
        log = server.process.log_text() if server.process else ""
        if NO_KUBE_PANIC in log:
            return (
                f"{peer} panics without Kubernetes (nil multicluster controller: {NO_KUBE_PANIC})"
            )
        return f"{peer} did not become ready standalone: {exc}"
    finally:
        server.stop()
    return ""
