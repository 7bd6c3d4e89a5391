"""Start-up checks that turn "CRD missing" and "RBAC forbidden" into one clear sentence.

Why this module exists: without it the agent would fail on its first list with a bare 404 or 403
(or crash-loop). Discovery tells whether ``networking.istio.io/<version>`` serves both kinds, and
SelfSubjectAccessReviews (allowed to every authenticated identity) name each verb the Role lacks.
"""

from __future__ import annotations

from dubbomesh.k8s import errors
from dubbomesh.k8s.client import KubeClient
from dubbomesh.k8s.resources import LEASES, PODS, Resource, istio_resource
from dubbomesh.k8s.settings import K8sSettings
from dubbomesh.mesh.intent import Kind


def needed_resources(settings: K8sSettings) -> list[Resource]:
    """Every resource the sink uses with these settings."""
    out = [
        istio_resource(k, settings.api_version) for k in (Kind.SERVICE_ENTRY, Kind.WORKLOAD_ENTRY)
    ]
    if settings.leader_election:
        out.append(LEASES)
    if settings.pod_lookup:
        out.append(PODS)
    return out


async def check_crds(client: KubeClient, settings: K8sSettings) -> None:
    """Raise :class:`errors.ResourceMissing` naming the CRDs the API server does not serve."""
    wanted = [
        istio_resource(k, settings.api_version) for k in (Kind.SERVICE_ENTRY, Kind.WORKLOAD_ENTRY)
    ]
    group_path = wanted[0].group_path
    try:
        found = await client.call("GET", group_path, what=f"discover {group_path}")
        served = {r.get("name") for r in found.get("resources") or []}
    except errors.NotFound:
        served = set()
    missing = [r.qualified for r in wanted if r.plural not in served]
    if missing:
        raise errors.ResourceMissing(
            f"CRD(s) not installed or version {settings.api_version} not served: "
            + ", ".join(missing)
            + " (install deploy/crds/*.yaml)",
            status=404,
        )


async def check_rbac(client: KubeClient, settings: K8sSettings) -> None:
    """Raise :class:`errors.Forbidden` listing every (verb, resource) the identity lacks."""
    missing: list[str] = []
    for res in needed_resources(settings):
        for verb in res.verbs:
            attributes = {
                "namespace": settings.namespace,
                "verb": verb,
                "group": res.group,
                "resource": res.plural,
            }
            if res is LEASES and verb != "create":
                attributes["name"] = settings.lease_name  # the Role may name only our lease
            review = {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes},
            }
            answer = await client.call(
                "POST",
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                body=review,
                what="access review",
            )
            if not (answer.get("status") or {}).get("allowed"):
                missing.append(f"{verb} {res.qualified}")
    if missing:
        raise errors.Forbidden(
            f"RBAC in namespace {settings.namespace!r} does not grant: "
            + ", ".join(missing)
            + " (apply deploy/rbac.yaml or the chart's Role)",
            status=403,
        )


async def preflight(client: KubeClient, settings: K8sSettings) -> None:
    """Both checks; raises the first problem found."""
    await check_crds(client, settings)
    await check_rbac(client, settings)
