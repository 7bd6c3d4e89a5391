"""The sidecar recipe: the example application chart includes the agent with the template
helpers (docs/helm.md, "Sidecar")."""

from __future__ import annotations

from pathlib import Path

from tests.charts.chart_helpers import (
    agent_config,
    assert_hardened,
    container,
    env_of,
    sidecar_render,
)
from tests.charts.tools import by_kind, helm, one

# --- sidecar ---------------------------------------------------------------------------------


def test_sidecar_helper_adds_the_agent_to_an_application_pod(tmp_path: Path) -> None:
    docs = sidecar_render(tmp_path)
    deploy = one(docs, "Deployment")
    spec = deploy["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["app", "dubbomesh"]
    agent = container(spec)
    assert_hardened(spec, agent)
    volumes = {v["name"]: v for v in spec["volumes"]}
    cm = next(d for d in by_kind(docs, "ConfigMap") if "config.yaml" in d["data"])
    assert volumes["config"]["configMap"]["name"] == cm["metadata"]["name"]
    assert "emptyDir" in volumes["dubbomesh-xds"]
    app_mounts = {m["name"]: m["mountPath"] for m in container(spec, "app")["volumeMounts"]}
    assert app_mounts == {"dubbomesh-xds": "/var/run/dubbomesh"}
    cfg = agent_config(docs, tmp_path)
    assert cfg.xds_uds == "/var/run/dubbomesh/xds.sock"
    assert cfg.xds_listen == ("127.0.0.1:15910",)
    assert cfg.http_listen == "0.0.0.0:9091"
    assert env_of(agent)["ZK_AUTH_0"]["valueFrom"]["secretKeyRef"]["name"] == "zk-digest"
    # Probes on the agent's own port name, unique in the application's pod.
    assert [p["name"] for p in agent["ports"]] == ["dubbomesh-http"]
    assert agent["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "dubbomesh-http"}
    names = [p["name"] for c in spec["containers"] for p in c.get("ports", [])]
    assert len(names) == len(set(names))
    # Only the ConfigMap comes from the subchart: no workload, Service, account or binding of its
    # own (the unbound Role, if templates/role.yaml renders one, grants nothing to anybody).
    assert {d["kind"] for d in docs} - {"Role"} == {"Deployment", "ConfigMap"}


def test_sidecar_native_mode_and_misuse(tmp_path: Path) -> None:
    docs = sidecar_render(tmp_path, {"sidecar": {"native": True}})
    agent = container(one(docs, "Deployment")["spec"]["template"]["spec"])
    assert agent["restartPolicy"] == "Always"
    app = tmp_path / "sidecar-app"
    proc = helm("template", "shop", str(app), "--set", "dubbomesh.mode=deployment", check=False)
    assert proc.returncode != 0
    assert "mode: sidecar" in proc.stderr
