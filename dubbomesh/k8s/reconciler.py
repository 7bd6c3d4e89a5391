"""The writer: turns the latest mesh intent into server-side applies and deletes, and nothing more.

Why this module exists: it owns the reconcile loop of the leader. A pass runs when a new intent
arrives, when the informer caches change (someone edited or deleted an owned object), when a grace
timer or a retry is due, and every ``resync_period``. Planning is pure (:mod:`dubbomesh.k8s.plan`);
this module executes the plan with bounded concurrency, retries 409/429/5xx with capped jittered
backoff, and reports each object's failure without stopping the others.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio

from dubbomesh.aio.latest import LatestValue
from dubbomesh.k8s import errors
from dubbomesh.k8s.cache import ObjectCache
from dubbomesh.k8s.client import APPLY_PATCH, KubeClient
from dubbomesh.k8s.manifest import PodIdentity, desired_manifest
from dubbomesh.k8s.observer import K8sObserver
from dubbomesh.k8s.plan import Action, Key, content_of, plan
from dubbomesh.k8s.settings import K8sSettings
from dubbomesh.mesh.intent import MeshIntent

log = logging.getLogger(__name__)
Json = dict[str, Any]


class Reconciler:
    """Keeps one namespace's owned ServiceEntries and WorkloadEntries in step with the intent."""

    def __init__(
        self,
        client: KubeClient,
        settings: K8sSettings,
        observer: K8sObserver,
        caches: Mapping[str, ObjectCache],
        *,
        identities: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings
        self.observer = observer
        self.caches = caches
        """Kind value -> informer cache."""
        self.identities = identities
        """Async callable returning ``Mapping[ip, PodIdentity]`` (pod lookup), or None."""
        self.clock = clock
        self.dirty = anyio.Event()
        self.intent: MeshIntent | None = None
        self._fresh_intent = False
        self._orphan_since: Mapping[Key, float] = {}
        self._rejected: dict[Key, str] = {}
        self._memo: dict[tuple[str, str], Json] = {}
        self._retry_at: float | None = None
        self._next_deadline: float | None = None
        self._delays = client.backoff.delays()

    def poke(self) -> None:
        """Request a pass (cache callbacks call this)."""
        self.dirty.set()

    async def _follow(self, intents: LatestValue[MeshIntent]) -> None:
        seen = 0
        while True:
            seen, intent = await intents.wait_newer(seen)
            self.intent = intent
            self._fresh_intent = True
            self.poke()

    async def _desired(self, intent: MeshIntent) -> dict[Key, Json]:
        ids: Mapping[str, PodIdentity] | None = None
        if self.identities is not None:
            ids = await self.identities()
        memo: dict[tuple[str, str], Json] = {}
        out: dict[Key, Json] = {}
        id_tag = str(id(ids)) if ids is not None else ""
        for obj in intent.objects.values():
            tag = (obj.version, id_tag + obj.namespace)
            manifest = self._memo.get(tag)
            if manifest is None:
                manifest = desired_manifest(obj, self.settings, identities=ids)
            memo[tag] = manifest
            out[(obj.kind.value, obj.name)] = manifest
        self._memo = memo
        return out

    def _observed(self) -> dict[Key, Json]:
        return {(k, n): o for k, c in self.caches.items() for n, o in c.objects.items()}

    async def run(self, intents: LatestValue[MeshIntent]) -> None:
        """Reconcile until cancelled (cancel it when leadership is lost)."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._follow, intents)
            for cache in self.caches.values():
                await cache.synced.wait()
            while True:
                self.dirty = anyio.Event()
                if self.intent is not None:
                    await self.reconcile_once(self.intent)
                wake = [t for t in (self._retry_at, self._next_deadline) if t is not None]
                timeout = self.settings.resync_period
                if self.identities is not None:  # pods are listed, not watched: look again
                    timeout = min(timeout, self.settings.pod_lookup_ttl)
                if wake:
                    timeout = max(0.0, min(min(wake) - self.clock(), timeout))
                with anyio.move_on_after(timeout):
                    await self.dirty.wait()

    async def reconcile_once(self, intent: MeshIntent) -> int:
        """One pass; returns the number of objects still out of step."""
        fresh, self._fresh_intent = self._fresh_intent, False
        desired = await self._desired(intent)
        now = self.clock()
        p = plan(
            desired,
            self._observed(),
            registry_name=self.settings.registry_name,
            now=now,
            grace=self.settings.grace_period,
            deletions_allowed=intent.complete and not intent.stale,
            orphan_since=self._orphan_since,
            rejected=self._rejected,
        )
        self._orphan_since = p.orphan_since
        self._next_deadline = p.next_deadline
        for key, why in p.blocked:
            self.observer.object_error(key[0], key[1], why)
        for key in [k for k in self._rejected if k not in desired]:
            del self._rejected[key]
        if fresh and p.equal:
            self.observer.noop(p.equal)
        failed: list[Key] = []
        slots = anyio.Semaphore(self.settings.concurrency * 2)

        async def run_one(action: Action) -> None:
            try:
                if not await self._execute(action):
                    failed.append(action.key)
            finally:
                slots.release()

        async with anyio.create_task_group() as tg:
            for action in p.actions:
                await slots.acquire()
                tg.start_soon(run_one, action)
        pending = len(failed) + len(p.blocked)
        if failed:
            self._retry_at = self.clock() + next(self._delays)
        else:
            self._retry_at = None
            self._delays = self.client.backoff.delays()
        self.observer.in_step(pending == 0 and not p.orphan_since, pending)
        return pending

    async def _execute(self, action: Action) -> bool:
        """Run one action; True when done (or permanently skipped), False to retry later."""
        kind, name = action.key
        cache = self.caches[kind]
        path = cache.resource.item(self.settings.namespace, name)
        try:
            if action.op == "delete":
                await self._delete(action, cache, path)
            else:
                await self._apply(action, cache, path)
            return True
        except errors.Conflict as exc:
            self.observer.conflict(kind, name)
            log.info("conflict on %s/%s, retrying later: %s", kind, name, exc)
        except errors.Rejected as exc:
            assert action.desired is not None or action.op == "delete"
            if action.desired is not None:
                self._rejected[action.key] = content_of(action.desired)
            self.observer.object_error(kind, name, str(exc))
            log.error("API server rejected %s %s: %s", kind, name, exc)
            return True
        except (errors.Forbidden, errors.NotFound) as exc:
            self.observer.object_error(kind, name, str(exc))
            log.error("cannot write %s %s: %s", kind, name, exc)
        except errors.K8sError as exc:
            self.observer.object_error(kind, name, str(exc))
            log.warning("writing %s %s failed, retrying later: %s", kind, name, exc)
        return False

    async def _apply(self, action: Action, cache: ObjectCache, path: str) -> None:
        kind, name = action.key
        want = action.desired
        assert want is not None
        # Force only when the object is already ours: it then takes back fields someone edited.
        # A brand-new name is applied without force, so a foreign object that appeared meanwhile
        # makes the apply fail with a conflict instead of being taken over.
        force = "true" if action.observed is not None else "false"
        query = [("fieldManager", self.settings.field_manager), ("force", force)]
        obj = await self.client.call(
            "PATCH",
            path,
            query=query,
            body=want,
            content_type=APPLY_PATCH,
            what=f"apply {kind} {name}",
        )
        self.observer.write(kind, "apply", name)
        if obj.get("spec") != want["spec"]:
            # Fields set by another manager survive an apply; replace the spec wholesale.
            obj["spec"] = want["spec"]
            obj = await self.client.call(
                "PUT",
                path,
                query=[("fieldManager", self.settings.field_manager)],
                body=obj,
                what=f"replace {kind} {name}",
            )
            self.observer.write(kind, "replace", name)
        cache.put(obj)

    async def _delete(self, action: Action, cache: ObjectCache, path: str) -> None:
        kind, name = action.key
        have = action.observed or {}
        meta = have.get("metadata", {})
        body = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
        }
        with contextlib.suppress(errors.NotFound):
            await self.client.call("DELETE", path, body=body, what=f"delete {kind} {name}")
        self.observer.write(kind, "delete", name)
        try:
            rv: int | None = int(meta.get("resourceVersion", ""))
        except ValueError:
            rv = None
        cache.forget(name, rv)
