"""The one door to the API server: rate-limited, off the event loop, errors translated.

Why this module exists: the official Python client is synchronous and raises foreign exceptions. We
use only its configuration loading (kubeconfig, in-cluster token refresh, TLS) and its raw
``param_serialize``/``call_api`` pair, run each request in a worker thread under a bounded limiter,
take a token from the shared :class:`~dubbomesh.k8s.ratelimit.TokenBucket` first, report every
request to the observer, and turn failures into :mod:`dubbomesh.k8s.errors` classes.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import anyio
import urllib3
from kubernetes import client as kclient
from kubernetes import config as kconfig

from dubbomesh.aio.backoff import Backoff
from dubbomesh.k8s import errors
from dubbomesh.k8s.observer import K8sObserver
from dubbomesh.k8s.ratelimit import TokenBucket
from dubbomesh.k8s.settings import K8sSettings

log = logging.getLogger(__name__)

Json = dict[str, Any]
Query = Sequence[tuple[str, str]]
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"


def load_configuration(settings: K8sSettings) -> kclient.Configuration:
    """Credentials from ``settings.kubeconfig`` (or $KUBECONFIG/~/.kube), else in-cluster."""
    cfg = kclient.Configuration()
    try:
        if settings.kubeconfig is not None:
            kconfig.load_kube_config(
                config_file=settings.kubeconfig, context=settings.context, client_configuration=cfg
            )
        else:
            try:
                kconfig.load_incluster_config(client_configuration=cfg)
            except kconfig.ConfigException:
                kconfig.load_kube_config(context=settings.context, client_configuration=cfg)
    except (kconfig.ConfigException, OSError, ValueError, TypeError) as exc:
        where = settings.kubeconfig or "in-cluster service account / $KUBECONFIG"
        raise errors.ConfigError(f"cannot load Kubernetes credentials from {where}: {exc}") from exc
    cfg.retries = False  # our own retry policy only
    cfg.connection_pool_maxsize = settings.concurrency + 4
    return cfg


class KubeClient:
    """Raw JSON requests against one API server."""

    def __init__(
        self,
        settings: K8sSettings,
        observer: K8sObserver,
        *,
        configuration: kclient.Configuration | None = None,
    ) -> None:
        self.settings = settings
        self.observer = observer
        self.configuration = configuration or load_configuration(settings)
        self._api = kclient.ApiClient(self.configuration)
        self._api.user_agent = "dubbomesh"
        self.bucket = TokenBucket(settings.qps, settings.burst)
        self._limiter = anyio.CapacityLimiter(settings.concurrency)
        self._reachable: bool | None = None
        self.backoff = Backoff(initial=settings.backoff_initial, cap=settings.backoff_cap)

    def close(self) -> None:
        """Release pooled connections."""
        self._api.rest_client.pool_manager.clear()

    def _reached(self, reachable: bool) -> None:
        if reachable != self._reachable:
            self._reachable = reachable
            self.observer.api_reachable(reachable)
            if not reachable:
                log.warning("Kubernetes API server unreachable")
            else:
                log.info("Kubernetes API server reachable")

    def _blocking(
        self,
        *,
        method: str,
        path: str,
        query: Query,
        body: Any,
        content_type: str | None,
        timeout: float | tuple[float, float],
    ) -> tuple[int, bytes, str]:
        headers = {"Accept": "application/json"}
        if content_type or body is not None:
            headers["Content-Type"] = content_type or "application/json"
        try:
            prepared = self._api.param_serialize(
                method=method,
                resource_path=path,
                query_params=list(query),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            _, url, hdrs, data, _ = prepared
            resp = self._api.call_api(
                method, url, header_params=hdrs, body=data, _request_timeout=timeout
            )
            raw = resp.read() or b""
            return resp.status, raw, str(resp.headers.get("Retry-After", "") or "")
        except (urllib3.exceptions.HTTPError, OSError, kclient.ApiException) as exc:
            status = getattr(exc, "status", 0) or 0
            return status, str(exc).encode(), ""

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: Any = None,
        content_type: str | None = None,
        what: str = "",
    ) -> Json:
        """One attempt; returns the JSON body or raises a :class:`errors.K8sError`."""
        await self.bucket.acquire()
        status, raw, retry_after = await anyio.to_thread.run_sync(
            functools.partial(
                self._blocking,
                method=method,
                path=path,
                query=query,
                body=body,
                content_type=content_type,
                timeout=(5.0, self.settings.request_timeout),
            ),
            limiter=self._limiter,
            abandon_on_cancel=True,
        )
        self.observer.request(method, path, status)
        self._reached(status != 0)
        if 200 <= status < 300:
            try:
                parsed = json.loads(raw) if raw else {}
            except ValueError as exc:
                raise errors.ServerError(f"{what or path}: invalid JSON from server") from exc
            return parsed if isinstance(parsed, dict) else {"items": parsed}
        if status == 0:
            raise errors.Unreachable(
                f"{what or method + ' ' + path}: {raw.decode(errors='replace')}"
            )
        try:
            after = float(retry_after) if retry_after else 0.0
        except ValueError:
            after = 0.0
        raise errors.from_status(status, raw, what=what or f"{method} {path}", retry_after=after)

    async def call(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: Any = None,
        content_type: str | None = None,
        what: str = "",
        attempts: int | None = None,
    ) -> Json:
        """Like :meth:`request`, retrying 429, 5xx and transport errors with jittered backoff.

        409 conflicts are NOT retried here: the caller must re-read before trying again.
        """
        tries = attempts or self.settings.max_attempts
        delays = self.backoff.delays()
        for attempt in range(1, tries + 1):
            try:
                return await self.request(
                    method, path, query=query, body=body, content_type=content_type, what=what
                )
            except errors.Conflict:
                raise
            except errors.Retryable as exc:
                if attempt == tries:
                    raise
                delay = next(delays)
                if isinstance(exc, errors.TooManyRequests):
                    delay = max(delay, min(exc.retry_after, self.settings.backoff_cap))
                log.debug("retrying %s in %.2fs: %s", what or path, delay, exc)
                await anyio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def open_watch(self, path: str, query: Query, read_timeout: float) -> Any:
        """BLOCKING (call from a worker thread): open a watch stream; returns the urllib3 response.

        Raises our errors for non-2xx answers. Close it with ``shutdown()``/``close()``.
        """
        prepared = self._api.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        _, url, hdrs, _, _ = prepared
        try:
            resp = self._api.call_api(
                "GET", url, header_params=hdrs, _request_timeout=(5.0, read_timeout)
            )
        except (urllib3.exceptions.HTTPError, OSError, kclient.ApiException) as exc:
            raise errors.Unreachable(f"watch {path}: {exc}") from exc
        if resp.status != 200:
            raise errors.from_status(resp.status, resp.read(), what=f"watch {path}")
        return resp.response


def iter_lines(response: Any) -> Iterator[bytes]:
    """BLOCKING: the newline-delimited JSON events of a watch response."""
    buf = b""
    for chunk in response.stream(16384, decode_content=True):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield line
    if buf.strip():
        yield buf
