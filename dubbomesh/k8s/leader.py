"""Leader election on a coordination.k8s.io/v1 Lease: exactly one replica writes.

Why this module exists: the agent runs as a DaemonSet; every replica serves local xDS but only one
may write to the API server. The algorithm is client-go's: a follower takes over when the lease
record has not changed for ``lease_duration`` by ITS OWN clock (no trust in clock sync), the leader
renews every ``retry_period`` and stops writing when it could not renew for ``renew_deadline``,
and a graceful shutdown releases the lease (empty holder) so a follower takes over at its next
attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

from dubbomesh.k8s import errors
from dubbomesh.k8s.client import KubeClient
from dubbomesh.k8s.observer import K8sObserver
from dubbomesh.k8s.resources import LEASES
from dubbomesh.k8s.settings import K8sSettings

log = logging.getLogger(__name__)
Json = dict[str, Any]


def micro_time(now: dt.datetime | None = None) -> str:
    """A Kubernetes MicroTime string."""
    t = now or dt.datetime.now(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Acquire, renew and release one Lease."""

    def __init__(
        self,
        client: KubeClient,
        settings: K8sSettings,
        observer: K8sObserver,
        *,
        clock: Callable[[], float] = time.monotonic,
        release_on_exit: bool = True,
    ) -> None:
        self.client = client
        self.settings = settings
        self.observer = observer
        self.clock = clock
        self.release_on_exit = release_on_exit
        self.path = LEASES.item(settings.namespace, settings.lease_name)
        self.is_leader = False
        self._observed: tuple[str, str, str] | None = None
        self._observed_at = 0.0
        self._lease: Json | None = None

    def _body(self, previous: Json | None, *, release: bool = False) -> Json:
        now = micro_time()
        spec_prev = (previous or {}).get("spec") or {}
        holder = spec_prev.get("holderIdentity") or ""
        transitions = int(spec_prev.get("leaseTransitions") or 0)
        spec: Json = {
            "holderIdentity": "" if release else self.settings.identity,
            "leaseDurationSeconds": 1 if release else max(1, round(self.settings.lease_duration)),
            "acquireTime": spec_prev.get("acquireTime") or now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }
        if not release and holder != self.settings.identity:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = transitions + (1 if holder else 0)
        meta: Json = {"name": self.settings.lease_name, "namespace": self.settings.namespace}
        if previous is not None:
            meta["resourceVersion"] = previous["metadata"]["resourceVersion"]
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": spec,
        }

    async def try_acquire_or_renew(self) -> bool:
        """One attempt; True when this replica holds the lease afterwards."""
        try:
            lease: Json | None = await self.client.request("GET", self.path, what="get lease")
        except errors.NotFound:
            lease = None
        if lease is None:
            try:
                created = await self.client.request(
                    "POST",
                    LEASES.collection(self.settings.namespace),
                    body=self._body(None),
                    what="create lease",
                )
            except (errors.AlreadyExists, errors.Conflict):
                return False
            self._lease = created
            return True
        spec = lease.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        record = (holder, str(spec.get("renewTime") or ""), str(spec.get("leaseDurationSeconds")))
        now = self.clock()
        if record != self._observed:
            self._observed, self._observed_at = record, now
        duration = float(spec.get("leaseDurationSeconds") or self.settings.lease_duration)
        if holder and holder != self.settings.identity and now < self._observed_at + duration:
            return False
        try:
            self._lease = await self.client.request(
                "PUT", self.path, body=self._body(lease), what="update lease"
            )
        except errors.Conflict:
            return False
        return True

    async def release(self) -> None:
        """Give the lease up (empty holder) if we hold it."""
        if not self.is_leader or self._lease is None:
            return
        try:
            await self.client.request(
                "PUT", self.path, body=self._body(self._lease, release=True), what="release lease"
            )
            log.info("released lease %s", self.settings.lease_name)
        except errors.K8sError as exc:
            log.warning("could not release lease: %s", exc)

    def _set_leader(self, value: bool) -> None:
        if value != self.is_leader:
            self.is_leader = value
            self.observer.leader(value)
            log.info("%s leadership (%s)", "acquired" if value else "lost", self.settings.identity)

    async def _attempt(self) -> bool:
        try:
            return await self.try_acquire_or_renew()
        except errors.Forbidden as exc:
            log.error("lease %s: %s", self.settings.lease_name, exc)
            self.observer.problem(f"cannot use lease {self.settings.lease_name!r}: {exc}")
            return False
        except errors.K8sError as exc:
            log.debug("lease attempt failed: %s", exc)
            return False

    async def run(self, lead: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Forever: acquire, run ``lead()`` while renewing, cancel it when the lease is lost."""
        try:
            while True:
                await self._acquire()
                self._set_leader(True)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(lead)
                    await self._renew_until_lost()
                    tg.cancel_scope.cancel()
                self._set_leader(False)
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                if self.release_on_exit:
                    await self.release()
                self._set_leader(False)

    async def _acquire(self) -> None:
        while True:
            if await self._attempt():
                return
            await anyio.sleep(self.settings.retry_period)

    async def _renew_until_lost(self) -> None:
        last_ok = self.clock()
        while True:
            await anyio.sleep(self.settings.retry_period)
            if await self._attempt():
                last_ok = self.clock()
            elif self.clock() - last_ok >= self.settings.renew_deadline:
                return
            elif self._observed and self._observed[0] not in ("", self.settings.identity):
                return  # someone else holds it now
