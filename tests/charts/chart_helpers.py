"""Helpers shared by the chart tests: the agent's view of a render, the workload, the sidecar
example, NOTES.txt. Why a module: four test files read the same rendered objects the same way."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from dubbomesh.agent.config import AgentConfig, load_file, resolve
from tests.charts.tools import CHART, by_kind, render

MODES = ("deployment", "daemonset", "sidecar")
NS = "dubbo-mesh"


def agent_config(docs: list[dict[str, Any]], tmp_path: Path, **env: str) -> AgentConfig:
    """The rendered config.yaml, loaded and validated by the agent's own code."""
    cm = next(d for d in by_kind(docs, "ConfigMap") if "config.yaml" in d["data"])
    path = tmp_path / "config.yaml"
    path.write_text(cm["data"]["config.yaml"], encoding="utf-8")
    return resolve({}, env={"POD_NAMESPACE": NS, **env}, file_values=load_file(str(path)))


def workload(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The Deployment or DaemonSet."""
    found = by_kind(docs, "Deployment") + by_kind(docs, "DaemonSet")
    assert len(found) == 1
    return found[0]


def container(pod_spec: dict[str, Any], name: str = "dubbomesh") -> dict[str, Any]:
    """One container (or native sidecar init container) of a pod spec."""
    everything = pod_spec.get("containers", []) + pod_spec.get("initContainers", [])
    return next(c for c in everything if c["name"] == name)


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    """Env var name -> its entry."""
    return {e["name"]: e for e in c.get("env", [])}


def sidecar_render(tmp_path: Path, extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Render the example application chart with this chart as its dependency."""
    app = tmp_path / "sidecar-app"
    shutil.copytree(CHART / "examples" / "sidecar-app", app, dirs_exist_ok=True)
    shutil.copytree(
        CHART,
        app / "charts" / "dubbomesh",
        ignore=shutil.ignore_patterns("examples"),
        dirs_exist_ok=True,
    )
    return render(
        {"dubbomesh": extra} if extra else None,
        tmp_path=tmp_path,
        chart=app,
        release="shop",
        namespace="shop",
    )


def render_notes(tmp_path: Path, values: dict[str, Any] | None) -> str:
    """NOTES.txt as `helm install` prints it (install needs a cluster: render it via tpl)."""
    chart = tmp_path / "notes-chart"
    shutil.rmtree(chart, ignore_errors=True)
    shutil.copytree(CHART, chart, ignore=shutil.ignore_patterns("examples"))
    shutil.copy(chart / "templates" / "NOTES.txt", chart / "notes.txt")
    (chart / "templates" / "zz-notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: |\n"
        '    {{- tpl (.Files.Get "notes.txt") . | nindent 4 }}\n',
        encoding="utf-8",
    )
    docs = render(values, tmp_path=tmp_path, chart=chart, namespace=NS)
    return str(next(d for d in docs if d["metadata"]["name"] == "notes")["data"]["notes"])


EVERYTHING = {
    "sinks": {"kubernetes": {"enabled": True}, "file": {"enabled": True}},
    "podLookup": True,
    "serviceMonitor": {"enabled": True},
    "networkPolicy": {"enabled": True},
    "zookeeper": {"tls": {"enabled": True, "existingSecret": "zk-tls", "mutual": True}},
    "xds": {"tls": {"enabled": True, "existingSecret": "xds-tls", "clientAuth": True}},
}


def assert_hardened(pod: dict[str, Any], c: dict[str, Any]) -> None:
    """The restricted Pod Security Standard, and then some (read-only root, seccomp)."""
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert psc["runAsUser"] != 0
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
