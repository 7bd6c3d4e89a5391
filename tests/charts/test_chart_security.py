"""The chart's security promises: namespaced RBAC only, the Role bound to the agent's account
with the Lease it uses, hardened pods, the API token mounted only when needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.charts.chart_helpers import (
    EVERYTHING,
    MODES,
    NS,
    agent_config,
    assert_hardened,
    container,
    workload,
)
from tests.charts.tools import CHART, one, render

# --- RBAC scope and pod security -------------------------------------------------------------


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


@pytest.mark.parametrize("mode", ["deployment", "daemonset"])
def test_pods_are_hardened(mode: str, tmp_path: Path) -> None:
    pod = workload(render({**EVERYTHING, "mode": mode}, tmp_path=tmp_path))["spec"]["template"]
    spec = pod["spec"]
    assert_hardened(spec, container(spec))
    assert not spec.get("hostNetwork")
    assert not any("hostPath" in v for v in spec["volumes"])
    # The read-only root still has a writable /tmp and state directory.
    mounts = {m["mountPath"] for m in container(spec)["volumeMounts"]}
    assert {"/tmp", "/var/lib/dubbomesh", "/etc/dubbomesh/config.yaml"} <= mounts
