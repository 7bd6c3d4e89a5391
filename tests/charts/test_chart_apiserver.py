"""The chart's manifests against the REAL kube-apiserver (scripts/build-kube.sh).

Every manifest of every mode goes to the API server as a server-side apply with ``dryRun=All`` and
strict field validation: schema errors, unknown fields, bad enums and invalid names fail here as
they would at ``helm install``. Then the chart's RBAC is applied for real and the agent's own RBAC
preflight runs as the chart's ServiceAccount: the Role grants everything the agent needs, in its
namespace only.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from kubernetes import client as kclient
from kubernetes import config as kconfig
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ForbiddenError, ResourceNotFoundError

from dubbomesh.agent.config import load_file, resolve
from dubbomesh.agent.wiring import k8s_settings
from dubbomesh.k8s.client import KubeClient
from dubbomesh.k8s.observer import NullObserver
from dubbomesh.k8s.preflight import check_rbac
from tests.charts.cluster import chart_config, fresh_namespace, install_chart_rbac
from tests.charts.prometheus import poll
from tests.charts.tools import CHART, render
from tests.support.kube import KubeCluster

pytestmark = [pytest.mark.k8s]

HERE = Path(__file__).resolve().parent
EVERYTHING: dict[str, Any] = {
    "sinks": {"kubernetes": {"enabled": True}, "file": {"enabled": True}},
    "podLookup": True,
    "serviceMonitor": {"enabled": True},
    "networkPolicy": {"enabled": True},
    "zookeeper": {
        "registries": [
            {"name": "east", "hosts": "zk-e:2181", "auth": {"existingSecret": "zk", "key": "e"}}
        ],
        "tls": {"enabled": True, "existingSecret": "zk-tls", "mutual": True},
    },
    "xds": {"tls": {"enabled": True, "existingSecret": "xds-tls", "clientAuth": True}},
    "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
}


def dry_run_apply(dyn: DynamicClient, doc: dict[str, Any], ns: str) -> None:
    res = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    res.server_side_apply(
        body=doc,
        namespace=ns if res.namespaced else None,
        field_manager="helm-chart-test",
        force_conflicts=True,
        dry_run="All",
        query_params=[("fieldValidation", "Strict")],
    )


@pytest.fixture(scope="module")
def servicemonitor_crd(kube_apiserver: KubeCluster) -> None:
    """A stand-in ServiceMonitor CRD (the Prometheus Operator is not part of the test cluster):
    it makes the API server accept the kind; the object's fields are checked by the chart tests."""
    kube_apiserver.apply_file(HERE / "servicemonitor-crd.yaml")

    def served() -> bool:
        try:
            DynamicClient(kube_apiserver.api).resources.get(
                api_version="monitoring.coreos.com/v1", kind="ServiceMonitor"
            )
        except ResourceNotFoundError:
            return False
        return True

    poll(served, timeout=60, what="the ServiceMonitor kind served")
    kube_apiserver._dyn = None  # the shared dynamic client rediscovers the new kind


@pytest.mark.parametrize("mode", ["deployment", "daemonset", "sidecar"])
def test_every_manifest_passes_a_server_side_dry_run(
    mode: str, kube_apiserver: KubeCluster, servicemonitor_crd: None, tmp_path: Path
) -> None:
    ns = fresh_namespace(kube_apiserver, f"chart-{mode}")
    docs = render(
        {**EVERYTHING, "mode": mode, "dashboard": {"namespace": ns}},
        tmp_path=tmp_path,
        namespace=ns,
    )
    assert docs
    for doc in docs:
        dry_run_apply(kube_apiserver.dynamic, doc, ns)


def test_sidecar_example_passes_a_server_side_dry_run(
    kube_apiserver: KubeCluster, tmp_path: Path
) -> None:
    app = tmp_path / "sidecar-app"
    shutil.copytree(CHART / "examples" / "sidecar-app", app)
    shutil.copytree(CHART, app / "charts" / "dubbomesh", ignore=shutil.ignore_patterns("examples"))
    ns = fresh_namespace(kube_apiserver, "chart-sidecar-app")
    docs = render(None, tmp_path=tmp_path, chart=app, release="shop", namespace=ns)
    assert any(d["kind"] == "Deployment" for d in docs)
    for doc in docs:
        dry_run_apply(kube_apiserver.dynamic, doc, ns)


def test_dry_run_rejects_a_broken_manifest(kube_apiserver: KubeCluster, tmp_path: Path) -> None:
    """The dry run is a real check: a field the schema does not know is refused."""
    ns = fresh_namespace(kube_apiserver, "chart-broken")
    docs = render(None, tmp_path=tmp_path, namespace=ns)
    deploy = next(d for d in docs if d["kind"] == "Deployment")
    deploy["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(Exception, match="readinessProbes"):
        dry_run_apply(kube_apiserver.dynamic, deploy, ns)


@pytest.mark.parametrize("pod_lookup", [False, True])
def test_chart_role_grants_what_the_agent_needs_in_its_namespace_only(
    pod_lookup: bool, kube_apiserver: KubeCluster, tmp_path: Path
) -> None:
    ns = fresh_namespace(kube_apiserver, "chart-rbac")
    values = {"sinks": {"kubernetes": {"enabled": True}}, "podLookup": pod_lookup}
    docs = render(values, tmp_path=tmp_path, release="rbac", namespace=ns)
    kubeconfig = install_chart_rbac(kube_apiserver, docs, ns, tmp_path)
    config = resolve(
        {"kubeconfig": str(kubeconfig)},
        env={"POD_NAMESPACE": ns},
        file_values=load_file(str(chart_config(docs, tmp_path))),
    )
    settings = k8s_settings(config)
    assert settings.namespace == ns
    assert settings.pod_lookup is pod_lookup
    client = KubeClient(settings, NullObserver())
    try:
        anyio.run(check_rbac, client, settings)  # raises Forbidden naming what is missing
    finally:
        client.close()

    # The same identity may write ServiceEntries here, and nowhere else.
    cfg = kclient.Configuration()
    kconfig.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    dyn = DynamicClient(kclient.ApiClient(cfg))
    entry = yaml.safe_load(
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: probe}
        spec:
          hosts: [probe.dubbo.internal]
          ports: [{number: 20880, name: tcp-dubbo, protocol: TCP}]
          resolution: STATIC
          endpoints: [{address: 10.0.0.9}]
        """
    )
    dry_run_apply(dyn, entry, ns)
    other = fresh_namespace(kube_apiserver, "chart-rbac-other")
    with pytest.raises(ForbiddenError):
        dry_run_apply(dyn, entry, other)
    ses = dyn.resources.get(api_version="networking.istio.io/v1", kind="ServiceEntry")
    with pytest.raises(ForbiddenError):
        ses.get()  # cluster-wide list
