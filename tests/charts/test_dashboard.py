"""The Grafana dashboard, rendered once with the real metrics of a running agent.

A real agent (``dubbomesh run`` with the chart's own config.yaml and the chart's RBAC) watches a
real ZooKeeper while a churn thread registers and unregisters providers, publishes over xDS to a
real gRPC ADS client (which ACKs, NACKs once, and holds the one allowed stream while a second one is
refused) and through the Kubernetes API to a real kube-apiserver (where an admission policy refuses
the churning service's entry, so API errors are real too). The seeded tree holds an undecodable
node, a directory the agent may not read and two interfaces that collide as DNS names, so the
problem panels have real data. A real Prometheus scrapes it
every second. Then every query of every panel is sent to Prometheus as Grafana would (a range query
with the dashboard's variables set to "All") and must return real samples. ``promtool check
metrics`` lints the scraped exposition. How to run it by hand: docs/operations.md.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.rpc import status_pb2
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl
from kubernetes.client.rest import ApiException

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.zk.seed import provider_url, register, seed_demo
from tests.charts.cluster import AgentProcess, chart_config, fresh_namespace, install_chart_rbac
from tests.charts.prometheus import (
    Prometheus,
    free_port,
    has_numbers,
    poll,
    promtool_check_metrics,
)
from tests.charts.tools import CHART, render
from tests.support.kube import KubeCluster

pytestmark = [pytest.mark.integration, pytest.mark.k8s, pytest.mark.slow]

SE_TYPE = "networking.istio.io/v1/ServiceEntry"
JOB = "dubbomesh"
QUIET_WHEN_HEALTHY = {
    "dubbomesh_zookeeper_resync_drift_total": "a relisting that finds a missed watch",
    "dubbomesh_state_file_errors_total": "a state file that cannot be read or written",
}
"""Labelled failure counters that have no series until the failure happens once. Their queries
must still be valid and their metric declared, and the panel must show another query's data."""


def grafana_expr(expr: str) -> str:
    """A panel query as Grafana sends it with job/instance = All and a 1s scrape interval."""
    return expr.replace("$job", ".+").replace("$instance", ".+").replace("$__rate_interval", "5s")


class AdsClient:
    """An ADS stream that subscribes to ServiceEntries as istiod does, NACKs the first response
    and ACKs the rest."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target)
        self.requests: queue.Queue[discovery_pb2.DiscoveryRequest | None] = queue.Queue()
        self.responses = 0
        self.error: grpc.RpcError | None = None
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(self.channel)
        self.node = base_pb2.Node(id="sidecar~127.0.0.1~istiod-0.istio-system~istio-system.svc")
        self.requests.put(discovery_pb2.DiscoveryRequest(node=self.node, type_url=SE_TYPE))
        self.call = stub.StreamAggregatedResources(iter(self.requests.get, None))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        acked = ""
        try:
            for resp in self.call:
                self.responses += 1
                req = discovery_pb2.DiscoveryRequest(
                    node=self.node, type_url=resp.type_url, response_nonce=resp.nonce
                )
                if self.responses == 1:
                    req.version_info = acked
                    req.error_detail.CopyFrom(status_pb2.Status(code=3, message="test NACK"))
                else:
                    req.version_info = acked = resp.version_info
                self.requests.put(req)
        except grpc.RpcError as exc:
            self.error = exc

    def close(self) -> None:
        self.requests.put(None)
        self.call.cancel()
        self.channel.close()


def refused_stream(target: str) -> grpc.StatusCode:
    """Open a stream beyond --xds-max-streams; the status the server ends it with."""
    with grpc.insecure_channel(target) as channel:
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
        req = discovery_pb2.DiscoveryRequest(node=base_pb2.Node(id="second"), type_url=SE_TYPE)
        try:
            for _ in stub.StreamAggregatedResources(iter([req]), timeout=20):
                pass
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


class Churn:
    """Registers and unregisters one provider every few hundred milliseconds until stopped."""

    def __init__(self, hosts: str) -> None:
        self.client = KazooClient(hosts=hosts, timeout=10)
        self.client.start(timeout=30)
        self.stop = threading.Event()
        self.flips = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        iface = "org.example.ChurnService"
        url = provider_url("tri", "127.0.0.60", 50051, iface)  # an interface-level entry
        while not self.stop.is_set():
            path = register(self.client, f"/dubbo/{iface}/providers", url)
            self.stop.wait(0.3)  # the churn rate itself, not a wait for a condition
            self.client.delete(path)
            self.flips += 1
            self.stop.wait(0.3)

    def __enter__(self) -> Churn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.stop()
        self.client.close()


def panels() -> Iterator[dict[str, Any]]:
    doc = json.loads((CHART / "dashboards" / "dubbomesh.json").read_text(encoding="utf-8"))
    for p in doc["panels"]:
        if p["type"] != "row":
            yield p


def seed(hosts: str) -> None:
    """The demo's services, plus nodes that make the problem panels show something."""
    seed_demo(hosts)
    client = KazooClient(hosts=hosts, timeout=10)
    client.start(timeout=30)
    try:
        # Java names are case-sensitive, DNS names are not: a "host-collision" rendering problem.
        for i, iface in enumerate(("org.example.Inventory", "org.example.inventory")):
            url = provider_url("dubbo", f"127.0.0.{70 + i}", 20880, iface, dynamic=False)
            register(client, f"/dubbo/{iface}/providers", url, ephemeral=False)
        # A node that is no URL at all: a decode error.
        client.ensure_path("/dubbo/org.example.BrokenService/providers/not%20a%20url")
        # A directory the agent may not read (digest ACL of another user): a bad node.
        locked = make_digest_acl("owner", "owner-secret", all=True)
        client.create("/dubbo/org.example.LockedService", makepath=True)
        client.create("/dubbo/org.example.LockedService/providers", acl=[locked])
    finally:
        client.stop()
        client.close()


def refuse_churn_entries(kube: KubeCluster, ns: str) -> list[dict[str, Any]]:
    """A ValidatingAdmissionPolicy that refuses the churning service's ServiceEntry in ``ns``:
    each churn flip is then a rejected write (a real API error) while everything else is written."""
    name = f"dubbomesh-test-{ns}"
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": ["networking.istio.io"], "apiVersions": ["*"],
                "operations": ["CREATE", "UPDATE"], "resources": ["serviceentries"],
            }]},
            "validations": [{
                "expression": "!object.metadata.name.contains('churnservice')",
                "message": "the churn service is refused by a test policy",
                "reason": "Invalid",
            }],
        },
    }  # fmt: skip
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}
            },
        },
    }
    for doc in (policy, binding):
        kube.apply_doc(doc)
    # The API server loads admission policies asynchronously: until it enforces this one, the first
    # churn entry could be admitted and, never changing again, would never be refused. Wait until a
    # dry-run create of such an entry is refused.
    entries = kube.dynamic.resources.get(api_version="networking.istio.io/v1", kind="ServiceEntry")
    probe = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "probe-churnservice", "namespace": ns},
        "spec": {"hosts": ["probe.churnservice.test"], "resolution": "STATIC"},
    }

    def enforced() -> bool:
        try:
            entries.create(body=probe, namespace=ns, dry_run="All")
        except ApiException as exc:
            return exc.status == 422 and "refused by a test policy" in str(exc.body)
        return False

    poll(enforced, timeout=60, what="the admission policy to be enforced")
    return [policy, binding]


def test_every_panel_shows_data_from_a_real_agent(
    zk_server: LocalZooKeeper, kube_apiserver: KubeCluster, tmp_path: Path
) -> None:
    ns = fresh_namespace(kube_apiserver, "dash")
    docs = render(
        {"sinks": {"kubernetes": {"enabled": True}}},
        tmp_path=tmp_path,
        release="dash",
        namespace=ns,
    )
    kubeconfig = install_chart_rbac(kube_apiserver, docs, ns, tmp_path)
    policies = refuse_churn_entries(kube_apiserver, ns)
    seed(zk_server.connect_string)
    http_port, xds_port = free_port(), free_port()
    http = f"http://127.0.0.1:{http_port}"
    xds = f"127.0.0.1:{xds_port}"
    flags = [
        "--zk", zk_server.connect_string,
        "--http-listen", f"127.0.0.1:{http_port}",
        "--xds-listen", xds,
        "--xds-max-streams", "1",
        "--state-file", str(tmp_path / "state.msgpack"),
        "--kubeconfig", str(kubeconfig),
        "--allow-loopback-endpoints", "true",
        "--delete-grace", "1",
    ]  # fmt: skip
    agent = AgentProcess(
        chart_config(docs, tmp_path), flags=flags, namespace=ns, log=tmp_path / "agent.log"
    )
    with agent, Prometheus(tmp_path, JOB, [f"127.0.0.1:{http_port}"]) as prom:
        agent.wait_ready(http)
        ads = AdsClient(xds)
        try:
            poll(lambda: ads.responses >= 1, timeout=60, what="a first xDS response (NACKed)")
            assert refused_stream(xds) == grpc.StatusCode.RESOURCE_EXHAUSTED
            with Churn(zk_server.connect_string) as churn:
                poll(lambda: churn.flips >= 15, timeout=120, what="15 churn cycles")
                poll(
                    lambda: prom.query(f'count_over_time(up{{job="{JOB}"}}[1m]) >= 15'),
                    timeout=60,
                    what="15 scrapes",
                )
                results = {
                    t["expr"]: prom.query_range(grafana_expr(t["expr"]), 20)
                    for p in panels()
                    for t in p["targets"]
                }
                jobs = prom.label_values("job", "dubbomesh_build_info")
                instances = prom.label_values("instance", 'dubbomesh_build_info{job=~".+"}')
            status, exposition = agent.get(f"{http}/metrics")
        finally:
            ads.close()
            for doc in policies:
                res = kube_apiserver.dynamic.resources.get(
                    api_version=doc["apiVersion"], kind=doc["kind"]
                )
                res.delete(name=doc["metadata"]["name"])
    assert ads.error is None or ads.error.code() == grpc.StatusCode.CANCELLED, ads.error
    assert jobs == [JOB]
    assert instances == [f"127.0.0.1:{http_port}"]

    assert status == 200
    declared = {
        line.split()[2] for line in exposition.decode().splitlines() if line.startswith("# TYPE")
    }
    empty_panels = []
    for p in panels():
        with_data = [t["expr"] for t in p["targets"] if has_numbers(results[t["expr"]])]
        for t in p["targets"]:
            if t["expr"] in with_data:
                continue
            quiet = [m for m in QUIET_WHEN_HEALTHY if m in t["expr"]]
            assert quiet, f"panel {p['title']!r}: no data for {t['expr']}\n{agent.tail()}"
            assert declared & {quiet[0], quiet[0].removesuffix("_total")}, quiet[0]
        if not with_data:
            empty_panels.append(p["title"])
    assert not empty_panels, f"panels without data: {empty_panels}"

    lint = promtool_check_metrics(exposition)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout.strip() == ""
