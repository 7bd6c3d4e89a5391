"""Public entry point of the ZooKeeper adapter: mirror registries into a stream of RegistryEvents.

Why this module exists: the composition root needs one call per registry, with IO and
observability injected, and nothing kazoo-shaped leaking out. ``run_registry`` runs until
cancelled; it retries connections forever, and only raises for permanent problems (bad settings,
refused credentials). With ``task_status`` (``await tg.start(run_registry, ...)``) it reports
"started" once the first complete listing has been emitted: that is the registry's readiness.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import anyio
from anyio.abc import ObjectSendStream, TaskStatus

from dubbomesh.dubbo.registry import RegistryEvent
from dubbomesh.zk.client import ClientFactory, make_client
from dubbomesh.zk.inbox import Inbox
from dubbomesh.zk.lister import InboxItem
from dubbomesh.zk.observer import NullObserver, ZkObserver
from dubbomesh.zk.settings import RegistrySettings
from dubbomesh.zk.watcher import AsyncEmit, Watcher

Emit = (
    Callable[[RegistryEvent], None]
    | Callable[[RegistryEvent], Awaitable[None]]
    | ObjectSendStream[RegistryEvent]
)
"""Where events go: a plain callback, an async callback, or an anyio send stream."""


def _as_async(emit: Emit) -> AsyncEmit:
    if isinstance(emit, ObjectSendStream):
        return emit.send
    if inspect.iscoroutinefunction(emit):
        return emit

    call = emit

    async def deliver(event: RegistryEvent) -> None:
        call(event)

    return deliver


async def run_registry(
    settings: RegistrySettings,
    emit: Emit,
    observer: ZkObserver | None = None,
    *,
    client_factory: ClientFactory = make_client,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Mirror one registry into ``emit`` until cancelled.

    Events are full-state per node (see ``dubbomesh.dubbo.registry``). Nothing is emitted before
    the first complete listing, which ends with ``ListingComplete``; later relists emit only
    differences. Raises ``ZkAuthError`` when credentials are refused, ``ZkConfigError`` for
    invalid settings; everything else (outages, expiries, unreadable nodes) is survived.
    """
    obs = observer or NullObserver()
    deliver = _as_async(emit)
    inbox: Inbox[InboxItem] = Inbox()
    client = client_factory(settings)
    watcher = Watcher(settings, client, inbox, obs)
    client.add_listener(inbox.put)
    try:
        client.start_async()
        await watcher.run(deliver, task_status)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_shutdown, client)


def _shutdown(client: object) -> None:
    stop = getattr(client, "stop", None)
    close = getattr(client, "close", None)
    try:
        if stop is not None:
            stop()
    finally:
        if close is not None:
            close()


async def run_registries(
    registries: list[RegistrySettings],
    emit: Emit,
    observer: ZkObserver | None = None,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Run several registries concurrently; ``started`` once every one of them is ready."""
    async with anyio.create_task_group() as tg:
        for settings in registries:
            await tg.start(run_registry, settings, emit, observer, name=f"zk-{settings.name}")
        task_status.started()
