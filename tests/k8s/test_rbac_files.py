"""The shipped Roles grant exactly the verbs the code uses (dubbomesh/k8s/resources.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dubbomesh.k8s.preflight import needed_resources
from dubbomesh.k8s.settings import K8sSettings

REPO = Path(__file__).resolve().parents[2]
Grant = tuple[str, str, str]


def grants(rules: list[dict[str, Any]]) -> set[Grant]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def role_rules(path: Path) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "Role"]
    assert len(docs) == 1
    rules: list[dict[str, Any]] = docs[0]["rules"]
    return rules


def used(**kwargs: Any) -> set[Grant]:
    settings = K8sSettings(namespace="ns", **kwargs)
    return {(r.group, r.plural, v) for r in needed_resources(settings) for v in r.verbs}


def test_deploy_rbac_matches_the_code() -> None:
    rules = role_rules(REPO / "deploy" / "rbac.yaml")
    assert grants(rules) == used(leader_election=True, pod_lookup=False)
    named = [r for r in rules if "resourceNames" in r]
    assert named == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [K8sSettings(namespace="ns").lease_name],
            "verbs": ["get", "update"],
        }
    ]
    pods = role_rules(REPO / "deploy" / "rbac-pod-lookup.yaml")
    assert grants(rules) | grants(pods) == used(leader_election=True, pod_lookup=True)


def test_chart_role_has_the_same_rules() -> None:
    text = (REPO / "charts" / "dubbomesh" / "templates" / "role.yaml").read_text()
    body = text[text.index("rules:") :]
    lines = [ln for ln in body.splitlines() if "{{-" not in ln]
    rendered = "\n".join(lines).replace(
        '{{ .Values.leaseName | default "dubbomesh" | quote }}', '"dubbomesh"'
    )
    chart = grants(yaml.safe_load(rendered)["rules"])
    assert chart == used(leader_election=True, pod_lookup=True)
    assert "kind: Role\n" in text
    assert "kind: ClusterRole" not in text
