"""The composition root: build every component from the config and run them as named tasks.

Why this module exists: it is the one place that knows all the parts. Everything else receives
what it needs as keyword arguments (settings values, LatestValue cells, observers), so each part is
testable alone. Data flow (see the architecture guide)::

    zk.run_registry (one task per registry) --events--> run_catalog --Catalog--> run_intent
        --MeshIntent--> xDS server | Kubernetes sink (leader only) | file sink
    Catalog --> state file writer (last-known-good)

Shutdown (SIGTERM/SIGINT): readiness turns false, sinks stop, the lease is released and the
state file flushed, bounded by ``--shutdown-timeout``.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio
from anyio.abc import TaskGroup

from dubbomesh.agent import state
from dubbomesh.agent.config import AgentConfig
from dubbomesh.agent.filesink import run_file_sink
from dubbomesh.agent.http import Response, serve_http
from dubbomesh.agent.logs import setup_logging
from dubbomesh.agent.metrics import Metrics
from dubbomesh.agent.observers import (
    K8sMetrics,
    PipelineMetrics,
    XdsMetrics,
    ZkMetrics,
    propagation_hook,
)
from dubbomesh.agent.pipeline import Clock, Debounce, run_catalog, run_intent
from dubbomesh.agent.status import AgentStatus, RegistryStatus
from dubbomesh.agent.wiring import (
    build_catalog_builder,
    build_renderer,
    k8s_settings,
    registry_settings,
    xds_settings,
)
from dubbomesh.aio.backoff import Backoff
from dubbomesh.aio.gcpolicy import GcPolicy
from dubbomesh.aio.latest import LatestValue
from dubbomesh.dubbo.model import Catalog
from dubbomesh.dubbo.registry import RegistryEvent
from dubbomesh.k8s.errors import K8sError
from dubbomesh.k8s.sink import run_kubernetes_sink
from dubbomesh.mesh.intent import MeshIntent
from dubbomesh.xds.server import XdsServer, XdsServerError
from dubbomesh.zk.errors import ZkError
from dubbomesh.zk.source import run_registry

log = logging.getLogger("dubbomesh")

STATE_SAVE_INTERVAL = 5.0
"""At most one state-file write per this many seconds (the newest catalog is always written)."""


class Agent:
    """All long-running parts of one agent process."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.metrics = Metrics()
        self.clock = Clock()
        self.catalogs: LatestValue[Catalog] = LatestValue()
        self.intents: LatestValue[MeshIntent] = LatestValue()
        self.status = AgentStatus(self.catalogs, self.intents)
        self.status.xds_enabled = True
        self.status.kube_enabled = "kubernetes" in config.sink
        for target in config.registries:
            self.status.registries[target.name] = RegistryStatus(target.name, target.hosts)
        self.xds = XdsServer(
            xds_settings(config),
            observer=XdsMetrics(self.metrics, self.status, propagation_hook(self)),
            # Full collections of the loaded heap would land in pushes (p99 121-323 ms at 10,000
            # services); freezing after each snapshot keeps them off it (p99 15-26 ms).
            gc_policy=GcPolicy(),
        )
        self._stop = anyio.Event()

    # -- last-known-good -------------------------------------------------------------------
    def load_state(self) -> None:
        """Serve the last-known-good catalog until a fresh listing exists (never a crash)."""
        if not self.config.state_file:
            return
        try:
            loaded = state.load(self.config.state_file)
        except state.StateFileError as exc:
            self.status.state_error = str(exc)
            self.metrics.state_errors.labels("read").inc()
            log.warning("ignoring state file %s: %s", self.config.state_file, exc)
            return
        if loaded is None:
            return
        self.status.state_loaded_at = loaded.written_at
        self.metrics.catalog_stale.set(1)
        self.catalogs.set(loaded.catalog)
        log.warning(
            "serving last-known-good catalog from %s (%d services, written %.0fs ago) "
            "until ZooKeeper answers",
            self.config.state_file,
            len(loaded.catalog),
            time.time() - loaded.written_at,
        )

    async def _save_state(self) -> None:
        """Write each fresh catalog (at most once per STATE_SAVE_INTERVAL; the newest wins)."""
        seen = 0
        while True:
            seen, catalog = await self.catalogs.wait_newer(seen)
            if catalog.stale:
                continue
            try:
                await anyio.to_thread.run_sync(state.save, self.config.state_file, catalog)
                self.metrics.state_writes.inc()
            except OSError as exc:
                self.metrics.state_errors.labels("write").inc()
                log.warning("cannot write state file %s: %s", self.config.state_file, exc)
            await anyio.sleep(STATE_SAVE_INTERVAL)

    async def _track_fresh(self) -> None:
        """The one owner of "are we serving the last-known-good file?" (status and metrics)."""
        seen = 0
        while True:
            seen, catalog = await self.catalogs.wait_newer(seen)
            if not catalog.stale:
                self.status.state_loaded_at = None
                self.metrics.catalog_stale.set(0)
            self.metrics.state_age.set(
                0
                if self.status.state_loaded_at is None
                else time.time() - self.status.state_loaded_at
            )

    # -- HTTP --------------------------------------------------------------------------------
    def routes(self) -> dict[str, Any]:
        """The health, metrics and debug endpoints."""

        async def healthz() -> Response:
            return Response.text("ok\n")

        async def readyz() -> Response:
            ready, details = self.status.readiness()
            return Response.json(details, 200 if ready else 503)

        async def metrics() -> Response:
            if self.status.state_loaded_at is not None:
                self.metrics.state_age.set(time.time() - self.status.state_loaded_at)
            return Response(
                200, self.metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8"
            )

        async def catalog() -> Response:
            return Response.json(self.status.catalog_view())

        async def intent() -> Response:
            return Response.json(self.status.intent_view())

        async def xds() -> Response:
            return Response.json(self.xds.debug_view())

        async def config() -> Response:
            return Response.json(self.config.redacted())

        return {
            "/healthz": healthz,
            "/readyz": readyz,
            "/metrics": metrics,
            "/debug/catalog": catalog,
            "/debug/intent": intent,
            "/debug/xds": xds,
            "/debug/config": config,
        }

    # -- running -----------------------------------------------------------------------------
    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled or :meth:`stop`; graceful shutdown bounded by the config."""
        c = self.config
        self.load_state()
        send, receive = anyio.create_memory_object_stream[RegistryEvent](math.inf)
        builder = build_catalog_builder(c)
        renderer = build_renderer(c)
        pipeline_obs = PipelineMetrics(self.metrics, builder)
        debounce = Debounce(c.debounce, c.debounce_max)
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                _call(
                    run_catalog,
                    receive,
                    builder,
                    self.catalogs,
                    debounce=debounce,
                    clock=self.clock,
                    observer=pipeline_obs,
                ),
                name="catalog",
            )
            await self._start_all(tg, send, renderer, pipeline_obs)
            task_status.started(self)
            await self._stop.wait()
            await self._shutdown(tg)

    async def _start_all(
        self, tg: TaskGroup, send: Any, renderer: Any, pipeline_obs: PipelineMetrics
    ) -> None:
        c = self.config
        for target in c.registries:
            status = self.status.registries[target.name]
            observer = ZkMetrics(self.metrics, status)
            run = _call(run_registry, registry_settings(c, target), send.clone(), observer)
            tg.start_soon(
                _supervised(
                    run,
                    f"ZooKeeper registry {target.name!r}",
                    (ZkError,),
                    status.report_error,
                ),
                name=f"zk:{target.name}",
            )
        send.close()
        tg.start_soon(
            _call(run_intent, self.catalogs, renderer, self.intents, observer=pipeline_obs),
            name="intent",
        )
        tg.start_soon(self._track_fresh, name="state-age")
        if c.state_file:
            tg.start_soon(self._save_state, name="state-file")
        if "file" in c.sink:
            tg.start_soon(run_file_sink, self.intents, c.output_dir, name="file-sink")
        if "kubernetes" in c.sink:
            sink = _call(
                run_kubernetes_sink,
                self.intents,
                k8s_settings(c),
                K8sMetrics(self.metrics, self.status, propagation_hook(self)),
            )
            tg.start_soon(
                _supervised(
                    sink,
                    "Kubernetes sink",
                    (K8sError,),
                    lambda msg: setattr(self.status, "kube_last_error", msg),
                ),
                name="kubernetes",
            )
        await tg.start(self._serve_xds, name="xds")
        if c.http_listen != "none":
            await tg.start(serve_http, c.http_listen, self.routes(), name="http")

    async def _serve_xds(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        await self.xds.serve(self.intents, task_status=task_status)

    async def _shutdown(self, tg: TaskGroup) -> None:
        self.status.shutting_down = True
        log.info("shutting down (bounded by %.1fs)", self.config.shutdown_timeout)
        with anyio.move_on_after(self.config.shutdown_timeout, shield=True):
            await self.xds.drain()
            catalog = self.catalogs.get()
            if self.config.state_file and catalog is not None and not catalog.stale:
                try:
                    await anyio.to_thread.run_sync(state.save, self.config.state_file, catalog)
                except OSError as exc:
                    log.warning("cannot flush state file: %s", exc)
        tg.cancel_scope.cancel()

    def stop(self) -> None:
        """Begin a graceful shutdown."""
        self._stop.set()


def _supervised(
    run: Callable[[], Awaitable[None]],
    what: str,
    permanent: tuple[type[Exception], ...],
    report: Callable[[str], None],
) -> Callable[[], Coroutine[Any, Any, None]]:
    """Keep a component that failed for a permanent reason (credentials refused, unusable
    kubeconfig) from taking the agent, and the xDS stream it serves, down: report the error
    (readiness details, logs) and retry with a capped backoff, since a rotated Secret may fix it."""

    async def runner() -> None:
        delays = Backoff(initial=5.0, cap=120.0).delays()
        while True:
            try:
                await run()
                return
            except permanent as exc:
                message = f"{what}: {exc}"
                report(message)
                delay = next(delays)
                log.error("%s; retrying in %.0fs", message, delay)
                await anyio.sleep(delay)

    return runner


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Bind keyword arguments for ``start_soon`` (which only forwards positionals)."""

    async def runner() -> None:
        await fn(*args, **kwargs)

    return runner


async def watch_signals(agent: Agent) -> None:
    """Turn SIGTERM/SIGINT into a graceful stop."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("received %s", signal.Signals(signum).name)
            agent.stop()
            return


async def main_async(config: AgentConfig) -> None:
    """Run the agent with signal handling until a graceful shutdown completes."""
    agent = Agent(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_signals, agent)
        await agent.run()
        tg.cancel_scope.cancel()


def _leaves(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside (nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def run_agent(config: AgentConfig) -> int:
    """Blocking entry point for ``dubbomesh run``; 1 when the xDS server cannot listen."""
    setup_logging(config.log_level, config.log_format)
    log.info("dubbomesh starting: %s", config.redacted())
    failed: list[str] = []
    try:
        anyio.run(main_async, config)
    except* XdsServerError as group:
        failed.extend(str(e) for e in _leaves(group))
    for message in failed:
        log.error("cannot serve xDS: %s", message)
    return 1 if failed else 0
