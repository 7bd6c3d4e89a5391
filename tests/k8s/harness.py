"""Helpers to run the Kubernetes sink inside a test's task group and poll its effects.

Why this module exists: every integration test starts ``run_kubernetes_sink`` as the restricted
identity, publishes intents, and waits (polling with a deadline, never sleeping for a condition)
for the API server or the observer to show the result.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio

from dubbomesh.aio.latest import LatestValue
from dubbomesh.k8s.observer import CountingObserver
from dubbomesh.k8s.settings import K8sSettings
from dubbomesh.k8s.sink import run_kubernetes_sink
from dubbomesh.mesh.intent import MeshIntent

T = TypeVar("T")


def fast_settings(namespace: str, kubeconfig: Path, **overrides: Any) -> K8sSettings:
    """Settings with short timers so tests finish quickly."""
    values: dict[str, Any] = dict(
        namespace=namespace,
        kubeconfig=str(kubeconfig),
        registry_name="test",
        grace_period=1.0,
        lease_duration=4.0,
        renew_deadline=3.0,
        retry_period=0.5,
        backoff_initial=0.05,
        backoff_cap=1.0,
        request_timeout=5.0,
        qps=200.0,
        burst=200,
    )
    values.update(overrides)
    return K8sSettings(**values)


async def eventually(
    predicate: Callable[[], T], *, within: float = 30.0, what: str = "condition"
) -> T:
    """Poll ``predicate`` until truthy; fail at the deadline."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await anyio.sleep(0.02)  # polling interval


async def eventually_async(
    predicate: Callable[[], Any], *, within: float = 30.0, what: str = "condition"
) -> Any:
    """Like :func:`eventually` for a blocking predicate (admin API calls run in a thread)."""
    deadline = time.monotonic() + within
    while True:
        value = await anyio.to_thread.run_sync(predicate)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}; last: {value!r}")
        await anyio.sleep(0.05)  # polling interval


@dataclass
class RunningSink:
    """A sink running in the background."""

    intents: LatestValue[MeshIntent]
    observer: CountingObserver
    settings: K8sSettings
    scope: anyio.CancelScope

    def publish(self, intent: MeshIntent) -> None:
        """Hand the sink a new intent."""
        self.intents.set(intent)

    async def settle(self, *, within: float = 30.0) -> None:
        """Wait for a reconcile pass after the latest intent that left everything in step."""
        passes = self.observer.passes
        await eventually(
            lambda: self.observer.passes > passes and self.observer.last_in_step,
            within=within,
            what="a pass in step",
        )

    def stop(self) -> None:
        """Cancel the sink (graceful: the lease is released)."""
        self.scope.cancel()


@asynccontextmanager
async def running_sink(
    settings: K8sSettings,
    *,
    intents: LatestValue[MeshIntent] | None = None,
    release_on_exit: bool = True,
) -> AsyncIterator[RunningSink]:
    """Run ``run_kubernetes_sink`` until the block exits."""
    cell: LatestValue[MeshIntent] = intents or LatestValue()
    observer = CountingObserver()
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def run(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            with scope:
                await run_kubernetes_sink(
                    cell,
                    settings,
                    observer,
                    release_on_exit=release_on_exit,
                    task_status=task_status,
                )

        await tg.start(run)
        try:
            yield RunningSink(cell, observer, settings, scope)
        finally:
            tg.cancel_scope.cancel()
