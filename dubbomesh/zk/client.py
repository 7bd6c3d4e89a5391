"""Creating kazoo clients from settings, and translating kazoo's connection states.

Why this module exists: auth, TLS, retry policy and logging of a ZooKeeper client are decided once,
here, for the mirror, the demo seeder and the tests alike. Retries never give up (the mirror must
outlive any outage); the digest secret goes to kazoo and nowhere else; the connection thread
selects with one ``poll`` call (:mod:`dubbomesh.zk.handler`), not a fresh epoll set per request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kazoo.client import KazooClient, KazooState
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KeeperState
from kazoo.retry import KazooRetry

from dubbomesh.zk.errors import ZkAuthError, ZkUnavailable
from dubbomesh.zk.handler import PollHandler
from dubbomesh.zk.observer import ConnectionState
from dubbomesh.zk.settings import RegistrySettings

ClientFactory = Callable[[RegistrySettings], KazooClient]
"""How the mirror obtains its client (tests inject one to reach the session, e.g. to expire it)."""

_LOG = logging.getLogger("dubbomesh.zk.kazoo")


def make_client(settings: RegistrySettings) -> KazooClient:
    """A configured, not yet started kazoo client for ``settings``."""
    retry = KazooRetry(
        max_tries=-1, delay=0.1, backoff=2, max_jitter=0.2, max_delay=settings.reconnect_max_delay
    )
    kwargs: dict[str, object] = {}
    if settings.tls is not None:
        tls = settings.tls
        kwargs.update(
            use_ssl=True,
            ca=tls.ca or None,
            certfile=tls.certfile or None,
            keyfile=tls.keyfile or None,
            verify_certs=tls.verify,
        )
    auth = [("digest", settings.auth_digest)] if settings.auth_digest else None
    return KazooClient(
        hosts=settings.hosts,
        timeout=settings.session_timeout,
        auth_data=auth,
        connection_retry=retry,
        logger=_LOG,
        handler=PollHandler(),
        **kwargs,
    )


def translate_state(client: KazooClient, state: str) -> ConnectionState:
    """Our name for a kazoo state-listener value."""
    if state == KazooState.CONNECTED:
        return ConnectionState.CONNECTED
    if state == KazooState.SUSPENDED:
        return ConnectionState.SUSPENDED
    return ConnectionState.LOST


def auth_failed(client: KazooClient) -> bool:
    """True when the ensemble refused our credentials (permanent)."""
    return bool(client.client_state == KeeperState.AUTH_FAILED)


def connect(settings: RegistrySettings) -> KazooClient:
    """A started client (blocking, for one-shot tools); raises our errors, never kazoo's."""
    client = make_client(settings)
    try:
        client.start(timeout=settings.connect_timeout)
    except KazooTimeoutError as exc:
        client.close()
        raise ZkUnavailable(
            f"registry {settings.name!r}: no ZooKeeper answered at {settings.hosts}"
        ) from exc
    if auth_failed(client):
        client.stop()
        client.close()
        raise ZkAuthError(f"registry {settings.name!r}: authentication refused")
    return client
