"""The Helm chart, rendered by a real helm: lint, the objects of each mode, schema checks, the
optional objects, the dashboard ConfigMap and the packaged chart."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from dubbomesh.agent.metrics import Metrics
from tests.charts.chart_helpers import (
    MODES,
    NS,
    render_notes,
    workload,
)
from tests.charts.tools import CHART, REPO, by_kind, helm, one, render, render_error

# --- lint and modes --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_helm_lint_is_clean_in_every_mode(mode: str) -> None:
    proc = helm("lint", str(CHART), "--strict", "--namespace", NS, "--set", f"mode={mode}")
    assert "0 chart(s) failed" in proc.stdout, proc.stdout


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            "deployment",
            {
                "Deployment",
                "Service",
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "PodDisruptionBudget",
                "ConfigMap",
            },
        ),
        (
            "daemonset",
            {
                "DaemonSet",
                "Service",
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "PodDisruptionBudget",
                "ConfigMap",
            },
        ),
        ("sidecar", {"ConfigMap", "Role", "RoleBinding"}),
    ],
)
def test_each_mode_renders_its_objects(mode: str, expected: set[str], tmp_path: Path) -> None:
    docs = render({"mode": mode}, tmp_path=tmp_path)
    assert {d["kind"] for d in docs} == expected
    if mode == "sidecar":
        assert not by_kind(docs, "ServiceAccount")


def test_schema_rejects_bad_values(tmp_path: Path) -> None:
    assert "mode" in render_error({"mode": "statefulset"}, tmp_path=tmp_path)
    assert "replica" in render_error({"replica": 3}, tmp_path=tmp_path)  # typo of replicas
    err = render_error(
        {"zookeeper": {"registries": [{"name": "a", "hosts": "zk-without-port"}]}},
        tmp_path=tmp_path,
    )
    assert "hosts" in err
    assert "endpointMode" in render_error({"mesh": {"endpointMode": "dns"}}, tmp_path=tmp_path)
    assert "hostNetwork" in render_error({"hostNetwork": True}, tmp_path=tmp_path)
    assert "secret" in render_error({"config": {"zk-auth": ["u:p"]}}, tmp_path=tmp_path)


# --- optional objects ------------------------------------------------------------------------


def test_optional_objects(tmp_path: Path) -> None:
    docs = render(
        {
            "serviceMonitor": {"enabled": True, "labels": {"release": "prom"}},
            "networkPolicy": {"enabled": True},
            "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        },
        tmp_path=tmp_path,
    )
    sm = one(docs, "ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["labels"]["release"] == "prom"
    assert sm["spec"]["endpoints"][0]["port"] == "http-metrics"
    assert one(docs, "PodDisruptionBudget")["spec"] == {
        "minAvailable": 1,
        "selector": workload(docs)["spec"]["selector"],
    }
    np = one(docs, "NetworkPolicy")
    assert [r["ports"][0]["port"] for r in np["spec"]["ingress"]] == [15910, 9090]
    plain = render(
        {"podDisruptionBudget": {"enabled": False}, "dashboard": {"enabled": False}},
        tmp_path=tmp_path,
    )
    assert not {"PodDisruptionBudget", "ServiceMonitor", "NetworkPolicy"} & {
        d["kind"] for d in plain
    }


def test_dashboard_configmap_carries_the_dashboard(tmp_path: Path) -> None:
    docs = render({"dashboard": {"namespace": "monitoring"}}, tmp_path=tmp_path)
    cm = next(d for d in by_kind(docs, "ConfigMap") if "dubbomesh.json" in d["data"])
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["namespace"] == "monitoring"
    committed = (CHART / "dashboards" / "dubbomesh.json").read_text(encoding="utf-8")
    assert cm["data"]["dubbomesh.json"] == committed.rstrip("\n")


def test_istio_mesh_snippet_points_at_the_service(tmp_path: Path) -> None:
    docs = render(None, tmp_path=tmp_path)
    cm = next(d for d in by_kind(docs, "ConfigMap") if "mesh-snippet.yaml" in d["data"])
    snippet = yaml.safe_load(cm["data"]["mesh-snippet.yaml"])
    svc = one(docs, "Service")
    port = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == "grpc-xds")
    assert snippet == {
        "configSources": [
            {"address": f"xds://{svc['metadata']['name']}.{NS}.svc:{port}"},
            {"address": "k8s://"},
        ]
    }
    tls = render({"xds": {"tls": {"enabled": True, "existingSecret": "x"}}}, tmp_path=tmp_path)
    cm = next(d for d in by_kind(tls, "ConfigMap") if "mesh-snippet.yaml" in d["data"])
    assert yaml.safe_load(cm["data"]["mesh-snippet.yaml"])["configSources"][0]["tlsSettings"] == {
        "mode": "SIMPLE",
        "caCertificates": "/etc/dubbomesh-ca/ca.crt",
    }
    notes = render_notes(tmp_path, None)
    assert f"address: xds://dubbomesh.{NS}.svc:15910" in notes
    assert "sidecarContainer" in render_notes(tmp_path, {"mode": "sidecar"})


# --- the dashboard's source ------------------------------------------------------------------


def test_dashboard_json_is_generated_and_covers_every_metric() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen-dashboard.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    text = (CHART / "dashboards" / "dubbomesh.json").read_text(encoding="utf-8")
    families = {m.name for m in Metrics().registry.collect()}
    assert len(families) > 20
    missing = sorted(f for f in families if f not in text)
    assert not missing, f"metrics without a dashboard panel: {missing}"


def test_packaged_chart_holds_the_dashboard_but_not_the_example(tmp_path: Path) -> None:
    helm("package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("dubbomesh-*.tgz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "dubbomesh/dashboards/dubbomesh.json" in names
    assert "dubbomesh/values.schema.json" in names
    assert not [n for n in names if "/examples/" in n]
