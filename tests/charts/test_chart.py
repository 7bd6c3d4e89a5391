"""The Helm chart, rendered by a real helm: lint, each mode, security, RBAC scope, config wiring.

The agent's own config loader reads the config.yaml the chart renders, so a value that maps to a
misspelt or invalid setting fails here, not in a cluster.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from dubbomesh.agent.config import AgentConfig, load_file, resolve
from dubbomesh.agent.metrics import Metrics
from tests.charts.tools import CHART, REPO, by_kind, helm, one, render, render_error

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


# --- RBAC scope and pod security -------------------------------------------------------------

EVERYTHING = {
    "sinks": {"kubernetes": {"enabled": True}, "file": {"enabled": True}},
    "podLookup": True,
    "serviceMonitor": {"enabled": True},
    "networkPolicy": {"enabled": True},
    "zookeeper": {"tls": {"enabled": True, "existingSecret": "zk-tls", "mutual": True}},
    "xds": {"tls": {"enabled": True, "existingSecret": "xds-tls", "clientAuth": True}},
}


def test_no_cluster_scoped_rbac_anywhere(tmp_path: Path) -> None:
    for tpl in (CHART / "templates").iterdir():
        assert not re.search(r"kind:\s*Cluster", tpl.read_text(encoding="utf-8")), tpl.name
    for mode in MODES:
        docs = render({**EVERYTHING, "mode": mode}, tmp_path=tmp_path)
        kinds = {d["kind"] for d in docs}
        assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
        for d in docs:
            assert d["metadata"].get("namespace") == NS, (d["kind"], d["metadata"]["name"])


def test_rolebinding_binds_the_role_to_the_agent_account(tmp_path: Path) -> None:
    docs = render({"sinks": {"kubernetes": {"enabled": True}}}, tmp_path=tmp_path)
    role, binding = one(docs, "Role"), one(docs, "RoleBinding")
    account = one(docs, "ServiceAccount")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": NS}
    ]
    pod = workload(docs)["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert pod["automountServiceAccountToken"] is True
    # The Role grants get/update on exactly the Lease the agent is configured to use.
    lease = agent_config(docs, tmp_path).lease_name
    named = [r for r in role["rules"] if r.get("resourceNames")]
    assert any(lease in r["resourceNames"] and "leases" in r["resources"] for r in named)


def test_api_token_is_mounted_only_when_the_agent_talks_to_the_api(tmp_path: Path) -> None:
    pod = workload(render(None, tmp_path=tmp_path))["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False


def _assert_hardened(pod: dict[str, Any], c: dict[str, Any]) -> None:
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


@pytest.mark.parametrize("mode", ["deployment", "daemonset"])
def test_pods_are_hardened(mode: str, tmp_path: Path) -> None:
    pod = workload(render({**EVERYTHING, "mode": mode}, tmp_path=tmp_path))["spec"]["template"]
    spec = pod["spec"]
    _assert_hardened(spec, container(spec))
    assert not spec.get("hostNetwork")
    assert not any("hostPath" in v for v in spec["volumes"])
    # The read-only root still has a writable /tmp and state directory.
    mounts = {m["mountPath"] for m in container(spec)["volumeMounts"]}
    assert {"/tmp", "/var/lib/dubbomesh", "/etc/dubbomesh/config.yaml"} <= mounts


# --- config, env, ports, probes --------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_rendered_config_is_accepted_by_the_agent(mode: str, tmp_path: Path) -> None:
    docs = render({**EVERYTHING, "mode": mode}, tmp_path=tmp_path)
    cfg = agent_config(docs, tmp_path)
    assert cfg.zk == ("default=zookeeper.dubbo.svc.cluster.local:2181",)
    assert cfg.root == ("/dubbo",)
    assert cfg.namespace == NS
    assert cfg.sink == ("kubernetes", "file")
    assert cfg.state_file == "/var/lib/dubbomesh/state.msgpack"
    assert cfg.http_listen == "0.0.0.0:9090"
    assert cfg.log_format == "json"
    assert cfg.zk_tls_key == "/etc/dubbomesh/zk-tls/tls.key"
    assert cfg.xds_tls_client_ca == "/etc/dubbomesh/xds-tls/ca.crt"
    assert cfg.zk_auth == ()
    # Settings left empty in values are not rendered: the agent's own defaults apply.
    rendered = yaml.safe_load(
        next(d for d in by_kind(docs, "ConfigMap") if "config.yaml" in d["data"])["data"][
            "config.yaml"
        ]
    )
    assert not {"label-param", "port", "export-to", "host-template"} & set(rendered)
    if mode == "sidecar":
        assert cfg.xds_listen == ("127.0.0.1:15910",)
        assert cfg.xds_uds == "/var/run/dubbomesh/xds.sock"
    else:
        assert cfg.xds_listen == ("0.0.0.0:15910",)
        assert cfg.xds_uds == ""


def test_values_map_onto_agent_settings(tmp_path: Path) -> None:
    values = {
        "zookeeper": {
            "registries": [
                {"name": "east", "hosts": "zk-0:2181,zk-1:2181"},
                {"name": "west", "hosts": "[fd00::7]:2181"},
            ],
            "roots": ["/dubbo", "/payments"],
            "appDiscovery": False,
            "sessionTimeout": "20s",
        },
        "mesh": {
            "owner": "east",
            "endpointMode": "workloadentry",
            "addressStrategy": "workload+vip",
            "hostTemplate": "{interface}.{group}.{version}.dubbo.local",
            "ports": {"tri": 50051, "dubbo": 20880},
            "labelParams": {"application": "app", "zone": "topology.kubernetes.io/zone"},
            "exportTo": ["."],
            "debounce": "250ms",
        },
        "leaseName": "dm-east",
        "kubernetes": {"qps": 5, "burst": 10},
        "xds": {"port": 16000},
        "http": {"port": 9191},
        "listenAddress": "::",
        "config": {"resync-interval": "10m", "shutdown-timeout": 20},
    }
    cfg = agent_config(render(values, tmp_path=tmp_path), tmp_path)
    assert cfg.zk == ("east=zk-0:2181,zk-1:2181", "west=[fd00::7]:2181")
    assert cfg.root == ("/dubbo", "/payments")
    assert cfg.app_discovery is False
    assert cfg.zk_session_timeout == 20.0
    assert (cfg.owner, cfg.endpoint_mode, cfg.address_strategy) == (
        "east",
        "workloadentry",
        "workload+vip",
    )
    assert cfg.host_template == "{interface}.{group}.{version}.dubbo.local"
    assert sorted(cfg.port) == ["dubbo=20880", "tri=50051"]
    assert sorted(cfg.label_param) == ["application=app", "zone=topology.kubernetes.io/zone"]
    assert cfg.export_to == (".",)
    assert cfg.debounce == 0.25
    assert cfg.lease_name == "dm-east"
    assert (cfg.kube_qps, cfg.kube_burst) == (5.0, 10)
    assert cfg.xds_listen == ("[::]:16000",)
    assert cfg.http_listen == "[::]:9191"
    assert (cfg.resync_interval, cfg.shutdown_timeout) == (600.0, 20.0)


def test_zookeeper_auth_comes_from_secrets_through_env(tmp_path: Path) -> None:
    values = {
        "zookeeper": {
            "registries": [
                {
                    "name": "east",
                    "hosts": "zk-e:2181",
                    "auth": {"existingSecret": "zk-east", "key": "a"},
                },
                {"name": "open", "hosts": "zk-o:2181"},
                {
                    "name": "west",
                    "hosts": "zk-w:2181",
                    "auth": {"existingSecret": "zk-west", "key": "b"},
                },
            ]
        }
    }
    docs = render(values, tmp_path=tmp_path)
    cm_text = yaml.safe_dump([d["data"] for d in by_kind(docs, "ConfigMap")])
    assert "zk-auth" not in cm_text
    env = env_of(container(workload(docs)["spec"]["template"]["spec"]))
    assert env["ZK_AUTH_0"]["valueFrom"] == {"secretKeyRef": {"name": "zk-east", "key": "a"}}
    assert env["ZK_AUTH_2"]["valueFrom"] == {"secretKeyRef": {"name": "zk-west", "key": "b"}}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    names = list(env)
    assert names.index("DUBBOMESH_ZK_AUTH") > names.index("ZK_AUTH_2")  # $(VAR) needs order
    # What the kubelet makes of $(ZK_AUTH_n), read by the agent's own config code.
    secrets = {"ZK_AUTH_0": "app:s3cret", "ZK_AUTH_2": "ops:pa55"}
    expanded = re.sub(
        r"\$\((\w+)\)", lambda m: secrets[m.group(1)], env["DUBBOMESH_ZK_AUTH"]["value"]
    )
    cfg = agent_config(docs, tmp_path, DUBBOMESH_ZK_AUTH=expanded)
    auth = {t.name: t.auth for t in cfg.registries}
    assert auth == {"east": "app:s3cret", "open": "", "west": "ops:pa55"}


@pytest.mark.parametrize("mode", ["deployment", "daemonset"])
def test_probes_ports_and_service_agree_with_the_config(mode: str, tmp_path: Path) -> None:
    docs = render({"mode": mode, "http": {"port": 9300}, "xds": {"port": 15999}}, tmp_path=tmp_path)
    cfg = agent_config(docs, tmp_path)
    c = container(workload(docs)["spec"]["template"]["spec"])
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http-metrics": 9300, "grpc-xds": 15999}
    assert cfg.http_listen.endswith(":9300")
    assert cfg.xds_listen[0].endswith(":15999")
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http-metrics"}
    assert c["args"] == ["run", "--config", "/etc/dubbomesh/config.yaml"]
    svc = one(docs, "Service")
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= set(ports)
    assert (
        svc["spec"]["selector"].items()
        <= workload(docs)["spec"]["template"]["metadata"]["labels"].items()
    )


def test_config_change_rolls_the_pods(tmp_path: Path) -> None:
    def checksum(values: dict[str, Any]) -> str:
        pod = workload(render(values, tmp_path=tmp_path))["spec"]["template"]
        return str(pod["metadata"]["annotations"]["checksum/config"])

    assert checksum({"logLevel": "info"}) != checksum({"logLevel": "debug"})


def test_daemonset_host_port_and_host_network(tmp_path: Path) -> None:
    docs = render({"mode": "daemonset", "xds": {"hostPort": True}}, tmp_path=tmp_path)
    c = container(workload(docs)["spec"]["template"]["spec"])
    xds = next(p for p in c["ports"] if p["name"] == "grpc-xds")
    assert xds["hostPort"] == xds["containerPort"] == 15910
    spec = workload(render({"mode": "daemonset", "hostNetwork": True}, tmp_path=tmp_path))["spec"][
        "template"
    ]["spec"]
    assert spec["hostNetwork"] is True
    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert "xds.hostPort" in render_error({"xds": {"hostPort": True}}, tmp_path=tmp_path)


def test_daemonset_state_file_on_a_host_directory(tmp_path: Path) -> None:
    docs = render(
        {"mode": "daemonset", "stateFile": {"hostPath": "/var/lib/dubbomesh-node"}},
        tmp_path=tmp_path,
    )
    volumes = {v["name"]: v for v in workload(docs)["spec"]["template"]["spec"]["volumes"]}
    assert volumes["state"]["hostPath"] == {"path": "/var/lib/dubbomesh-node", "type": "Directory"}
    off = render({"stateFile": {"enabled": False}}, tmp_path=tmp_path)
    assert agent_config(off, tmp_path).state_file == ""


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


# --- sidecar ---------------------------------------------------------------------------------


def test_sidecar_helper_adds_the_agent_to_an_application_pod(tmp_path: Path) -> None:
    docs = sidecar_render(tmp_path)
    deploy = one(docs, "Deployment")
    spec = deploy["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["app", "dubbomesh"]
    agent = container(spec)
    _assert_hardened(spec, agent)
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
