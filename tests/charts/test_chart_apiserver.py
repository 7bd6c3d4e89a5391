"""The chart's manifests against the REAL kube-apiserver (scripts/build-go-peers.sh).

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
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ForbiddenError, ResourceNotFoundError

from dubbomesh.agent.config import load_file, resolve
from dubbomesh.agent.wiring import k8s_settings
from dubbomesh.k8s.client import KubeClient
from dubbomesh.k8s.observer import NullObserver
from dubbomesh.k8s.preflight import check_rbac
from tests.charts.cluster import (
    chart_config,
    dynamic_client,
    fresh_namespace,
    install_chart_rbac,
    token_kubeconfig,
)
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


def dry_run_create(dyn: DynamicClient, doc: dict[str, Any], ns: str) -> None:
    """POST with ``dryRun=All``, as ``helm install`` creates objects (an apply that creates a
    RoleBinding is refused to non-admins: the RBAC escalation check wants an existing object)."""
    res = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    res.create(
        body=doc,
        namespace=ns,
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


def test_a_namespace_admin_can_install_the_chart(
    kube_apiserver: KubeCluster, tmp_path: Path
) -> None:
    """No cluster rights needed: an identity bound to the built-in ``admin`` role in ONE namespace
    (plus rights on Istio objects, which Istio's aggregated roles or your cluster policy give
    namespace admins) installs the chart, RBAC escalation checks on the chart's Role included."""
    ns = fresh_namespace(kube_apiserver, "chart-nsadmin")
    core = kclient.CoreV1Api(kube_apiserver.api)
    core.create_namespaced_service_account(ns, {"metadata": {"name": "installer"}})
    subject = [{"kind": "ServiceAccount", "name": "installer", "namespace": ns}]
    rbac = "rbac.authorization.k8s.io"
    # The built-in admin role is aggregated by kube-controller-manager, which the test cluster
    # does not run: bind its parts (what aggregation would put into admin) directly.
    admin_parts = ["admin", *(f"system:aggregate-to-{r}" for r in ("admin", "edit", "view"))]
    bindings: list[dict[str, Any]] = [
        {"apiVersion": f"{rbac}/v1", "kind": "RoleBinding",
         "metadata": {"name": f"installer-{i}", "namespace": ns},
         "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": name},
         "subjects": subject}
        for i, name in enumerate(admin_parts)
    ]  # fmt: skip
    istio_rights: list[dict[str, Any]] = [
        {"apiVersion": f"{rbac}/v1", "kind": "Role",
         "metadata": {"name": "installer-istio", "namespace": ns},
         "rules": [{"apiGroups": ["networking.istio.io"],
                    "resources": ["serviceentries", "workloadentries"], "verbs": ["*"]}]},
        {"apiVersion": f"{rbac}/v1", "kind": "RoleBinding",
         "metadata": {"name": "installer-istio", "namespace": ns},
         "roleRef": {"apiGroup": rbac, "kind": "Role", "name": "installer-istio"},
         "subjects": subject},
    ]  # fmt: skip
    for grant in bindings:
        kube_apiserver.apply_doc(grant, ns)
    installer = dynamic_client(token_kubeconfig(kube_apiserver, ns, "installer", tmp_path))
    role = next(d for d in render(None, tmp_path=tmp_path, namespace=ns) if d["kind"] == "Role")
    roles = installer.resources.get(api_version=role["apiVersion"], kind="Role")
    # RBAC escalation prevention is real here: without rights on Istio objects the installer
    # may not create a Role granting them.
    with pytest.raises(ForbiddenError):
        roles.create(body=role, namespace=ns, dry_run="All")
    for grant in istio_rights:
        kube_apiserver.apply_doc(grant, ns)
    values = {**EVERYTHING, "serviceMonitor": {"enabled": False}}
    created: set[str] = set()
    for mode in ("deployment", "daemonset"):
        for doc in render({**values, "mode": mode}, tmp_path=tmp_path, namespace=ns):
            if doc["kind"] == "Role":
                # Created for real: the RoleBinding's escalation check reads the bound Role.
                # Creating it at all proves the installer may grant what the agent needs.
                if doc["metadata"]["name"] not in created:
                    roles.create(body=doc, namespace=ns)
                    created.add(doc["metadata"]["name"])
                continue
            dry_run_create(installer, doc, ns)
    assert created
    # ... and the same identity cannot act outside its namespace.
    other = fresh_namespace(kube_apiserver, "chart-nsadmin-other")
    cm = next(
        d for d in render(None, tmp_path=tmp_path, namespace=other) if d["kind"] == "ConfigMap"
    )
    with pytest.raises(ForbiddenError):
        dry_run_create(installer, cm, other)


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
    dyn = dynamic_client(kubeconfig)
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
