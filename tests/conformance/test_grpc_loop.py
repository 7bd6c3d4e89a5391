"""The full loop: a proxyless grpcio client calls the Dubbo tri IDL service through xDS.

ZooKeeper (a real Dubbo 3.3 provider registered there) -> dubbomesh -> istiod -> grpcio: the
client is bootstrapped against istiod's plaintext xDS with node metadata ``GENERATOR: grpc``, and
istiod only knows the service through our MCP stream. The same call also runs with the client
bootstrapped directly against dubbomesh's own Envoy-xDS stream.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from tests.conformance.ads import LDS, fetch, sidecar_node
from tests.conformance.conftest import Mesh
from tests.conformance.istiod import Istiod
from tests.conformance.peers import REPO, wait_until

NODE_METADATA = {"GENERATOR": "grpc", "NAMESPACE": "dubbo", "ISTIO_VERSION": "1.30.0"}


def bootstrap(xds_address: str) -> str:
    node = {
        "id": "sidecar~127.0.0.1~greeter-client.dubbo~dubbo.svc.cluster.local",
        "cluster": "greeter-client.dubbo",
        "metadata": NODE_METADATA,
    }
    server = {
        "server_uri": xds_address,
        "channel_creds": [{"type": "insecure"}],
        "server_features": ["xds_v3"],
    }
    return json.dumps({"xds_servers": [server], "node": node})


def call_greeter(xds_address: str, target: str, deadline: float = 60.0) -> dict[str, Any]:
    """Run the grpcio client in its own process (the bootstrap is per process)."""
    env = dict(os.environ, GRPC_XDS_BOOTSTRAP_CONFIG=bootstrap(xds_address))
    argv = [sys.executable, "-m", "tests.conformance.greeter_client", target, "gt", "2.0.0"]
    done = subprocess.run(
        [*argv, str(deadline)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=deadline + 60,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"client printed nothing; stderr:\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    result["stderr"] = done.stderr[-3000:]
    return result


def greeter_target_in_istiod(istiod: Istiod) -> str:
    """``<host>:<port>`` of the Greeter's GRPC port, as istiod learned it from our stream."""

    def find() -> str | None:
        for entry in istiod.configz("ServiceEntry"):
            spec = entry.get("spec") or {}
            hosts = [h for h in spec.get("hosts", []) if "greeter" in h]
            grpc_ports = [p["number"] for p in spec.get("ports", []) if p["protocol"] == "GRPC"]
            if hosts and grpc_ports:
                return f"{hosts[0]}:{grpc_ports[0]}"
        return None

    target: str = wait_until(find, 60, "the Greeter ServiceEntry in istiod")
    return target


def greeter_target_in_agent(mesh: Mesh) -> str:
    node = sidecar_node("127.0.0.1", "greeter-client", "dubbo", NODE_METADATA)
    listeners = fetch(mesh.agent.xds_address, node, [LDS])[LDS]
    names = [lst.name for lst in listeners if "greeter" in lst.name]
    assert len(names) == 1, [lst.name for lst in listeners]
    name: str = names[0]
    return name


def test_grpc_client_via_istiod_reaches_the_dubbo_tri_provider(istiod: Istiod, mesh: Mesh) -> None:
    target = greeter_target_in_istiod(istiod)
    result = call_greeter(istiod.xds_address, f"xds:///{target}")
    assert result["ok"], f"call through istiod failed: {result}"
    assert result["message"] == "hello conformance"
    assert result["served_by"].endswith(f":{mesh.providers['a33'].ports['tri']}")


def test_grpc_client_via_dubbomesh_directly(mesh: Mesh) -> None:
    target = greeter_target_in_agent(mesh)
    result = call_greeter(mesh.agent.xds_address, f"xds:///{target}")
    assert result["ok"], f"call through dubbomesh's xDS failed: {result}"
    assert result["message"] == "hello conformance"
    assert result["served_by"].endswith(f":{mesh.providers['a33'].ports['tri']}")
