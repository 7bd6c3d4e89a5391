"""The chart's objects in the real test API server, and a real agent run from the chart's config.

Why this module exists: two tests need the chart's own RBAC (not deploy/rbac.yaml) in a fresh
namespace with a token of the chart's ServiceAccount, and the dashboard test runs ``dubbomesh run``
with exactly the config.yaml the chart renders (only addresses are overridden by flags, since the
test runs on loopback instead of a pod).
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as kclient
from kubernetes import config as kconfig
from kubernetes.dynamic import DynamicClient

from tests.charts.prometheus import poll
from tests.support.kube import KubeCluster

RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding")


def fresh_namespace(kube: KubeCluster, prefix: str) -> str:
    """A new namespace, created for real (server-side dry runs need it to exist)."""
    ns = f"{prefix}-{uuid.uuid4().hex[:8]}"
    kclient.CoreV1Api(kube.api).create_namespace({"metadata": {"name": ns}})
    return ns


def install_chart_rbac(kube: KubeCluster, docs: list[dict[str, Any]], ns: str, tmp: Path) -> Path:
    """Apply the chart's ServiceAccount, Role and RoleBinding; a kubeconfig of that account."""
    account = ""
    for doc in docs:
        if doc["kind"] in RBAC_KINDS:
            kube.apply_doc(doc, ns)
            if doc["kind"] == "ServiceAccount":
                account = doc["metadata"]["name"]
    assert account, "the chart rendered no ServiceAccount"
    return token_kubeconfig(kube, ns, account, tmp)


def token_kubeconfig(kube: KubeCluster, ns: str, account: str, tmp: Path) -> Path:
    """A kubeconfig holding a TokenRequest token of ``ns/account`` (nothing of the admin's)."""
    token = (
        kclient.CoreV1Api(kube.api)
        .create_namespaced_service_account_token(
            account,
            ns,
            {"apiVersion": "authentication.k8s.io/v1", "spec": {"expirationSeconds": 3600}},
        )
        .status.token
    )
    admin = yaml.safe_load(kube.admin_kubeconfig.read_text())
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": admin["clusters"][0]["cluster"]}],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": account, "context": {"cluster": "test", "user": account}}],
        "current-context": account,
    }
    path = tmp / f"{ns}-{account}.kubeconfig"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def dynamic_client(kubeconfig: Path) -> DynamicClient:
    """A dynamic client acting as the kubeconfig's identity."""
    cfg = kclient.Configuration()
    kconfig.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    return DynamicClient(kclient.ApiClient(cfg))


def chart_config(docs: list[dict[str, Any]], tmp: Path) -> Path:
    """The chart's config.yaml, written to a file."""
    cm = next(d for d in docs if d["kind"] == "ConfigMap" and "config.yaml" in d["data"])
    path = tmp / "config.yaml"
    path.write_text(cm["data"]["config.yaml"], encoding="utf-8")
    return path


class AgentProcess:
    """``dubbomesh run --config <chart config>`` with loopback addresses, as a subprocess."""

    def __init__(self, config: Path, *, flags: list[str], namespace: str, log: Path) -> None:
        self.cmd = [sys.executable, "-m", "dubbomesh", "run", "--config", str(config), *flags]
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "POD_NAMESPACE": namespace,
        }
        if "DUBBOMESH_CI_RUN" in os.environ:  # .ci/run finds what a run left behind by this mark
            self.env["DUBBOMESH_CI_RUN"] = os.environ["DUBBOMESH_CI_RUN"]
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> AgentProcess:
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def get(self, url: str) -> tuple[int, bytes]:
        """GET, with the process checked first (a dead agent fails fast with its log)."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"agent exited {self.proc.returncode}: {self.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return int(r.status), r.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except OSError:
            return 0, b""

    def wait_ready(self, http: str, timeout: float = 90) -> None:
        """Poll /readyz until 200."""
        poll(lambda: self.get(f"{http}/readyz")[0] == 200, timeout=timeout, what="agent /readyz")

    def tail(self) -> str:
        """The end of the agent's log."""
        return self.log.read_text(errors="replace")[-4000:]
