"""Values -> the agent's settings: the config.yaml the chart renders is loaded by the agent's own
config code, so a value that maps to a misspelt or invalid setting fails here, not in a cluster;
secrets through env, ports/probes/Service in agreement, DaemonSet host options."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.chart_helpers import (
    EVERYTHING,
    MODES,
    NS,
    agent_config,
    container,
    env_of,
    workload,
)
from tests.charts.tools import by_kind, one, render, render_error

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
            "filters": {
                "includeInterfaces": ["com.acme.pay.*"],
                "excludeApplications": ["*-legacy"],
            },
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
    assert cfg.include_interface == ("com.acme.pay.*",)
    assert cfg.exclude_application == ("*-legacy",)
    assert cfg.include_application == cfg.exclude_interface == ()
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
