"""An informer-style cache of one resource type in one namespace: list, then watch, forever.

Why this module exists: the reconciler compares desired objects with OBSERVED ones without a GET per
object. The watch runs in a worker thread (the Python client is synchronous) that only hands raw
event lines to the event loop; this task owns the dict. Our own writes are written through (the
response object) so a pass right after a write does not see stale state and write twice; events
older than what we hold (by resourceVersion) are ignored, and deleted objects leave a tombstone so a
late event cannot resurrect them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
from collections.abc import Callable
from typing import Any

import anyio
import anyio.abc
import anyio.from_thread

from dubbomesh.k8s import errors
from dubbomesh.k8s.client import KubeClient, iter_lines
from dubbomesh.k8s.observer import K8sObserver
from dubbomesh.k8s.resources import Resource

log = logging.getLogger(__name__)
Json = dict[str, Any]


def _rv(obj: Json) -> int | None:
    try:
        return int(obj.get("metadata", {}).get("resourceVersion", ""))
    except ValueError:
        return None


class ObjectCache:
    """Name -> object for one resource; :attr:`synced` is set after the first complete list."""

    def __init__(
        self,
        client: KubeClient,
        resource: Resource,
        namespace: str,
        *,
        observer: K8sObserver,
        on_change: Callable[[], None] = lambda: None,
        page_size: int = 500,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.observer = observer
        self.on_change = on_change
        self.page_size = page_size
        self.objects: dict[str, Json] = {}
        self.synced = anyio.Event()
        self._tombstones: dict[str, int] = {}
        self._rv = ""

    # --- write-through from the reconciler ---
    def put(self, obj: Json) -> None:
        """Record an object we just wrote (or received), unless we already hold a newer one."""
        name = obj["metadata"]["name"]
        new = _rv(obj)
        old = self.objects.get(name)
        if old is not None and new is not None and (_rv(old) or 0) >= new:
            return
        if new is not None and self._tombstones.get(name, -1) >= new:
            return
        self._tombstones.pop(name, None)
        self.objects[name] = obj
        self.on_change()

    def forget(self, name: str, rv: int | None) -> None:
        """Record a deletion (``rv``: the deleted object's last resourceVersion)."""
        if rv is not None:
            self._tombstones[name] = rv
        if self.objects.pop(name, None) is not None:
            self.on_change()

    # --- list + watch ---
    async def _list(self) -> None:
        path = self.resource.collection(self.namespace)
        items: dict[str, Json] = {}
        cont = ""
        rv = ""
        while True:
            query = [("limit", str(self.page_size))]
            if cont:
                query.append(("continue", cont))
            page = await self.client.call("GET", path, query=query, what=f"list {path}")
            meta = page.get("metadata") or {}
            rv = rv or str(meta.get("resourceVersion", ""))
            for item in page.get("items") or []:
                item.setdefault("apiVersion", self.resource.api_version)
                item.setdefault("kind", self.resource.kind)
                items[item["metadata"]["name"]] = item
            cont = str(meta.get("continue") or "")
            if not cont:
                break
        changed = items.keys() != self.objects.keys() or any(
            _rv(items[k]) != _rv(self.objects[k]) for k in items
        )
        self.objects = items
        self._tombstones.clear()
        self._rv = rv
        self.synced.set()
        if changed:
            self.on_change()

    def _apply_event(self, event: Json) -> None:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = int(obj.get("code", 0) or 0)
            raise errors.from_status(
                code or 500, json.dumps(obj), what=f"watch {self.resource.plural}"
            )
        rv = str(obj.get("metadata", {}).get("resourceVersion", ""))
        if rv:
            self._rv = rv
        if kind == "BOOKMARK":
            return
        if kind in ("ADDED", "MODIFIED"):
            self.put(obj)
        elif kind == "DELETED":
            name = obj.get("metadata", {}).get("name", "")
            held = self.objects.get(name)
            new = _rv(obj)
            if held is not None and new is not None and (_rv(held) or 0) > new:
                return  # we wrote it again after this deletion
            self.forget(name, new)

    async def _watch(self) -> None:
        path = self.resource.collection(self.namespace)
        timeout = int(self.client.settings.watch_timeout * (1 + random.random() / 4))
        query = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", self._rv),
            ("timeoutSeconds", str(timeout)),
        ]
        send, receive = anyio.create_memory_object_stream[bytes](1000)
        holder: list[Any] = []

        def pump() -> None:
            resp = self.client.open_watch(path, query, read_timeout=timeout + 30)
            holder.append(resp)
            try:
                for line in iter_lines(resp):
                    anyio.from_thread.run(send.send, line)
            finally:
                anyio.from_thread.run_sync(send.close)

        async def run_pump() -> None:
            try:
                await anyio.to_thread.run_sync(pump, abandon_on_cancel=True)
            except Exception as exc:
                failure.append(exc)
                await send.aclose()

        await self.client.bucket.acquire()
        failure: list[BaseException] = []
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(run_pump)
                async with receive:
                    async for line in receive:
                        self._apply_event(json.loads(line))
                tg.cancel_scope.cancel()
        finally:
            for resp in holder:  # unblock the reader thread if it is still streaming
                with contextlib.suppress(Exception):  # already released to the pool: fine
                    resp.shutdown()
        self.observer.request("GET", path, 200 if not failure else 0)
        if failure:
            exc = failure[0]
            if isinstance(exc, errors.K8sError):
                raise exc
            raise errors.Unreachable(f"watch {path}: {exc}") from exc

    async def run(self) -> None:
        """List and watch until cancelled; transient errors back off and relist/resume."""
        delays = self.client.backoff.delays()
        need_list = True
        while True:
            try:
                if need_list:
                    await self._list()
                    need_list = False
                await self._watch()
                delays = self.client.backoff.delays()
            except errors.Gone:
                need_list = True
            except (errors.Forbidden, errors.NotFound, errors.ResourceMissing) as exc:
                self.observer.problem(f"cannot list/watch {self.resource.qualified}: {exc}")
                log.error("cannot list/watch %s: %s", self.resource.qualified, exc)
                need_list = True
                await anyio.sleep(max(next(delays), 5.0))
            except errors.K8sError as exc:
                log.warning("watch of %s failed: %s", self.resource.qualified, exc)
                await anyio.sleep(next(delays))
