"""The Kubernetes sink: the one entry point the agent wires (``dubbomesh run --sink kubernetes``).

Why this module exists: it composes client, preflight, leader election, informer caches and the
reconciler with one failure policy: nothing here ever stops the agent. An API server that is down,
a missing CRD or a forbidden verb is reported (observer ``problem``/``api_reachable``, logs) and
retried with capped backoff while the rest of the agent (local xDS) keeps serving. Only unusable
credentials at start raise (:class:`~dubbomesh.k8s.errors.ConfigError`), before ``started()``.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import anyio.abc

from dubbomesh.aio.latest import LatestValue
from dubbomesh.k8s import errors
from dubbomesh.k8s.cache import ObjectCache
from dubbomesh.k8s.client import KubeClient
from dubbomesh.k8s.leader import LeaderElector
from dubbomesh.k8s.observer import K8sObserver
from dubbomesh.k8s.pods import PodDirectory
from dubbomesh.k8s.preflight import preflight
from dubbomesh.k8s.reconciler import Reconciler
from dubbomesh.k8s.resources import istio_resource
from dubbomesh.k8s.settings import K8sSettings
from dubbomesh.mesh.intent import Kind, MeshIntent

log = logging.getLogger(__name__)


async def _wait_preflight(client: KubeClient, settings: K8sSettings, observer: K8sObserver) -> None:
    delays = client.backoff.delays()
    reported = False
    while True:
        try:
            await preflight(client, settings)
        except (errors.ResourceMissing, errors.Forbidden) as exc:
            log.error("kubernetes sink cannot start: %s", exc)
            observer.problem(str(exc))
            reported = True
            await anyio.sleep(max(next(delays), 5.0))
            continue
        except errors.K8sError as exc:
            log.warning("kubernetes preflight failed, retrying: %s", exc)
            await anyio.sleep(next(delays))
            continue
        if reported:
            observer.problem(None)
        return


async def write_loop(
    client: KubeClient,
    intents: LatestValue[MeshIntent],
    settings: K8sSettings,
    observer: K8sObserver,
) -> None:
    """The leader's work: caches for both kinds plus the reconciler, until cancelled."""
    reconciler: Reconciler | None = None

    def poke() -> None:
        if reconciler is not None:
            reconciler.poke()

    caches = {
        kind.value: ObjectCache(
            client,
            istio_resource(kind, settings.api_version),
            settings.namespace,
            observer=observer,
            on_change=poke,
        )
        for kind in (Kind.SERVICE_ENTRY, Kind.WORKLOAD_ENTRY)
    }
    pods = PodDirectory(client, settings) if settings.pod_lookup else None
    reconciler = Reconciler(client, settings, observer, caches, identities=pods)
    async with anyio.create_task_group() as tg:
        for cache in caches.values():
            tg.start_soon(cache.run)
        tg.start_soon(reconciler.run, intents)


async def run_kubernetes_sink(
    intents: LatestValue[MeshIntent],
    settings: K8sSettings,
    observer: K8sObserver,
    *,
    release_on_exit: bool = True,
    task_status: anyio.abc.TaskStatus[Any] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Keep the namespace's owned ServiceEntries/WorkloadEntries in step with ``intents``.

    Runs until cancelled. ``task_status.started()`` is signalled once credentials are loaded,
    before the API server is reached (it may be down). ``release_on_exit=False`` simulates a
    crashed leader in tests (the lease then expires instead of being released).
    """
    client = KubeClient(settings, observer)
    task_status.started()
    delays = client.backoff.delays()
    try:
        while True:
            try:
                await _run_once(client, intents, settings, observer, release_on_exit)
            except Exception as exc:  # a bug must not take the agent (and its xDS) down
                log.exception("kubernetes sink failed; restarting it")
                observer.problem(f"kubernetes sink failed: {exc!r}")
                await anyio.sleep(max(next(delays), 1.0))
    finally:
        client.close()


async def _run_once(
    client: KubeClient,
    intents: LatestValue[MeshIntent],
    settings: K8sSettings,
    observer: K8sObserver,
    release_on_exit: bool,
) -> None:
    await _wait_preflight(client, settings, observer)

    async def lead() -> None:
        await write_loop(client, intents, settings, observer)

    if settings.leader_election:
        elector = LeaderElector(client, settings, observer, release_on_exit=release_on_exit)
        await elector.run(lead)
    else:
        observer.leader(True)
        try:
            await lead()
        finally:
            observer.leader(False)
