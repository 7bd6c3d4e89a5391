"""A REAL kube-apiserver + etcd for the Kubernetes tests, and the kubeconfigs to reach it.

Why this module exists: the sink's promises (zero writes, least privilege, repair, leader election,
outages) are only worth something against the real API server. The binaries come from
``scripts/build-go-peers.sh`` (cached outside the repo); this fixture starts etcd and
kube-apiserver on free loopback ports with RBAC on, writes an admin kubeconfig (static token in
``system:masters``), installs the project's Istio CRDs, and for each test namespace applies
``deploy/rbac.yaml`` and writes a kubeconfig holding a TokenRequest token of the restricted
``dubbomesh`` ServiceAccount.

``DUBBOMESH_TEST_KUBECONFIG=<file>`` runs the same tests against any real cluster instead (admin
rights needed to create namespaces; tests that restart the API server are skipped there).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as kclient
from kubernetes import config as kconfig
from kubernetes.dynamic import DynamicClient

REPO = Path(__file__).resolve().parents[2]
KUBE_VERSION = os.environ.get("KUBE_VERSION", "v1.35.4")
CACHE = Path(os.environ.get("DUBBOMESH_CACHE", Path.home() / ".cache" / "dubbomesh"))
BIN_DIR = Path(os.environ.get("DUBBOMESH_KUBE_BIN", CACHE / "kube" / KUBE_VERSION))
CRD_DIR = REPO / "deploy" / "crds"
RBAC = REPO / "deploy" / "rbac.yaml"
RBAC_PODS = REPO / "deploy" / "rbac-pod-lookup.yaml"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Any, *, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail at the deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)  # polling interval, not a wait for the condition itself
        delay = min(delay * 2, 0.2)


def _kubeconfig(server: str, *, token: str, ca_file: Path | None, user: str) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": server}
    if ca_file is not None:
        cluster["certificate-authority"] = str(ca_file)
    else:
        cluster["insecure-skip-tls-verify"] = True
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": "test", "user": user}}],
        "current-context": user,
    }


class KubeCluster:
    """A running API server (local processes or an external cluster) and admin helpers."""

    def __init__(self, workdir: Path, *, external: Path | None = None) -> None:
        self.workdir = workdir
        self.external = external
        self.etcd: subprocess.Popen[bytes] | None = None
        self.apiserver: subprocess.Popen[bytes] | None = None
        self.admin_token = secrets.token_hex(16)
        self.port = 0
        self.server = ""
        self.admin_kubeconfig = external or workdir / "admin.kubeconfig"
        self._api: kclient.ApiClient | None = None
        self._dyn: DynamicClient | None = None

    # --- processes -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start etcd and the API server (local mode) and install the CRDs."""
        if self.external is None:
            self._start_local()
        self.install_crds()

    def _start_local(self) -> None:
        etcd_bin, api_bin = BIN_DIR / "etcd", BIN_DIR / "kube-apiserver"
        if not (etcd_bin.exists() and api_bin.exists()):
            pytest.fail(
                f"kube-apiserver/etcd not built in {BIN_DIR}: run scripts/build-go-peers.sh first",
                pytrace=False,
            )
        w = self.workdir
        (w / "certs").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["openssl", "genrsa", "-out", str(w / "sa.key"), "2048"],
            check=True,
            capture_output=True,
        )
        (w / "tokens.csv").write_text(f'{self.admin_token},admin,admin,"system:masters"\n')
        client_port, peer_port = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        self.etcd = subprocess.Popen(
            [
                str(etcd_bin),
                "--name=test",
                f"--data-dir={w / 'etcd'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=test={peer}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
            stdout=open(w / "etcd.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        self.port = free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        self.start_apiserver()
        ca = w / "certs" / "apiserver.crt"
        config = _kubeconfig(self.server, token=self.admin_token, ca_file=ca, user="admin")
        self.admin_kubeconfig.write_text(yaml.safe_dump(config))

    def start_apiserver(self) -> None:
        """(Re)start kube-apiserver on the same port with the same etcd and keys."""
        assert self.external is None, "cannot restart an external cluster"
        w = self.workdir
        self.apiserver = subprocess.Popen(
            [
                str(BIN_DIR / "kube-apiserver"),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--cert-dir={w / 'certs'}",
                f"--token-auth-file={w / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={w / 'sa.key'}",
                f"--service-account-signing-key-file={w / 'sa.key'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--disable-admission-plugins=ServiceAccount",
                "--profiling=false",
                "--v=0",
            ],
            stdout=open(w / "apiserver.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        wait_until(self._ready, timeout=120, what="kube-apiserver /readyz")

    def stop_apiserver(self) -> None:
        """Stop kube-apiserver (etcd keeps the data)."""
        if self.apiserver is not None:
            self.apiserver.terminate()
            try:
                self.apiserver.wait(30)
            except subprocess.TimeoutExpired:
                self.apiserver.kill()
                self.apiserver.wait()
            self.apiserver = None

    def _ready(self) -> bool:
        if self.apiserver is not None and self.apiserver.poll() is not None:
            log = (self.workdir / "apiserver.log").read_text()[-3000:]
            raise AssertionError(f"kube-apiserver exited: {log}")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        req = urllib.request.Request(
            f"{self.server}/readyz", headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=2) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Stop everything."""
        self.stop_apiserver()
        if self.etcd is not None:
            self.etcd.terminate()
            self.etcd.wait(30)
            self.etcd = None

    # --- admin helpers ---------------------------------------------------------------------------
    @property
    def api(self) -> kclient.ApiClient:
        """An admin ApiClient (recreated after restarts is unnecessary: it reconnects)."""
        if self._api is None:
            cfg = kclient.Configuration()
            kconfig.load_kube_config(
                config_file=str(self.admin_kubeconfig), client_configuration=cfg
            )
            self._api = kclient.ApiClient(cfg)
        return self._api

    @property
    def dynamic(self) -> DynamicClient:
        """An admin dynamic client."""
        if self._dyn is None:
            self._dyn = DynamicClient(self.api)
        return self._dyn

    def apply_file(self, path: Path, namespace: str | None = None) -> None:
        """Create (or replace) every document of a YAML file, as admin."""
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                self.apply_doc(doc, namespace)

    def apply_doc(self, doc: dict[str, Any], namespace: str | None = None) -> None:
        """Server-side apply one document as admin (field manager ``test-admin``)."""
        res = self.dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        kwargs: dict[str, Any] = {
            "body": doc,
            "field_manager": "test-admin",
            "force_conflicts": True,
        }
        if res.namespaced:
            kwargs["namespace"] = namespace or doc["metadata"].get("namespace")
        res.server_side_apply(**kwargs)

    def install_crds(self) -> None:
        """Install the project's Istio CRDs and wait until both are served."""
        ext = kclient.ApiextensionsV1Api(self.api)
        for f in sorted(CRD_DIR.glob("*.yaml")):
            if self.external is not None:
                try:  # never replace the CRDs of a cluster that runs Istio
                    ext.read_custom_resource_definition(f.name.removesuffix(".yaml"))
                    continue
                except kclient.ApiException as exc:
                    if exc.status != 404:
                        raise
            self.apply_file(f)

        def established() -> bool:
            for name in (
                "serviceentries.networking.istio.io",
                "workloadentries.networking.istio.io",
            ):
                crd = ext.read_custom_resource_definition(name)
                conds = {c.type: c.status for c in (crd.status.conditions or [])}
                if conds.get("Established") != "True":
                    return False
            return True

        wait_until(established, timeout=60, what="CRDs established")
        self._dyn = None  # rediscover

    def new_namespace(self, prefix: str = "dm", *, pod_lookup: bool = False) -> tuple[str, Path]:
        """A fresh namespace with deploy/rbac.yaml applied; (name, restricted kubeconfig)."""
        ns = f"{prefix}-{uuid.uuid4().hex[:8]}"
        core = kclient.CoreV1Api(self.api)
        core.create_namespace({"metadata": {"name": ns}})
        self.apply_file(RBAC, ns)
        if pod_lookup:
            self.apply_file(RBAC_PODS, ns)
        token = core.create_namespaced_service_account_token(
            "dubbomesh",
            ns,
            {"apiVersion": "authentication.k8s.io/v1", "spec": {"expirationSeconds": 86400}},
        ).status.token
        admin = yaml.safe_load(self.admin_kubeconfig.read_text())
        cluster = admin["clusters"][0]["cluster"]
        ca = cluster.get("certificate-authority")
        config = _kubeconfig(
            cluster["server"],
            token=token,
            ca_file=Path(ca) if ca else None,
            user="dubbomesh",
        )
        if "certificate-authority-data" in cluster:
            config["clusters"][0]["cluster"] = cluster
        path = self.workdir / f"{ns}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        return ns, path

    def objects(self, kind: str, namespace: str, version: str = "v1") -> dict[str, dict[str, Any]]:
        """Name -> object (plain dict) of ServiceEntries or WorkloadEntries, read as admin."""
        plural = {"ServiceEntry": "serviceentries", "WorkloadEntry": "workloadentries"}[kind]
        api = kclient.CustomObjectsApi(self.api)
        listing = api.list_namespaced_custom_object(
            "networking.istio.io", version, namespace, plural
        )
        return {o["metadata"]["name"]: o for o in listing["items"]}

    def custom(self) -> kclient.CustomObjectsApi:
        """Admin CustomObjectsApi for tampering in tests."""
        return kclient.CustomObjectsApi(self.api)


@pytest.fixture(scope="session")
def kube_apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeCluster]:
    """A real API server with the Istio CRDs installed (local processes, or an external cluster)."""
    external = os.environ.get("DUBBOMESH_TEST_KUBECONFIG")
    workdir = tmp_path_factory.mktemp("kube")
    cluster = KubeCluster(workdir, external=Path(external) if external else None)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        if os.environ.get("DUBBOMESH_KEEP_KUBE_LOGS") is None:
            shutil.rmtree(workdir / "etcd", ignore_errors=True)


@pytest.fixture
def kube_namespace(kube_apiserver: KubeCluster) -> tuple[str, Path]:
    """A fresh namespace with the shipped Role bound to the ``dubbomesh`` ServiceAccount."""
    return kube_apiserver.new_namespace()
