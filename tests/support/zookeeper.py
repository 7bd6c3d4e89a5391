"""Pytest fixtures and helpers for tests against a REAL ZooKeeper server.

- ``zk_server`` (session): one LocalZooKeeper for the run (Docker when reachable, else Debian's).
- ``zk`` (function): a kazoo client on ``zk_server`` with an empty tree (only /zookeeper kept).
- ``zk_private_server`` (function): a server of its own, for tests that stop/pause/restart it.
- ``expire_session(client)``: expire a client's session the classic way (a second client takes
  over the session id and closes it).
- ``register_provider`` / ``register_override`` / ``unregister``: write nodes as Dubbo does.
- ``live_mirror(settings)``: runs ``run_registry`` in the test's task group, records events and
  feeds a real CatalogBuilder; ``await m.wait(predicate)`` polls with a deadline.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import pytest
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl_credential

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.dubbo.registry import ProvidersChanged, RegistryEvent
from dubbomesh.zk.client import make_client
from dubbomesh.zk.observer import RecordingObserver
from dubbomesh.zk.seed import dubbo_url, node_name, provider_url, register
from dubbomesh.zk.settings import RegistrySettings
from dubbomesh.zk.source import run_registry

__all__ = [
    "LiveMirror",
    "expire_session",
    "live_mirror",
    "register_override",
    "register_provider",
    "unregister",
    "wait_for",
]


SUPER_AUTH = ("digest", "super:dubbomesh-tests")
"""The server's super user: the ``zk`` fixture can wipe nodes whatever their ACL."""

_SUPER_FLAG = "-Dzookeeper.DigestAuthenticationProvider.superDigest=" + make_digest_acl_credential(
    "super", "dubbomesh-tests"
)


@pytest.fixture(scope="session")
def zk_server() -> Iterator[LocalZooKeeper]:
    """One real ZooKeeper for the whole test session."""
    with LocalZooKeeper(jvm_flags=[_SUPER_FLAG]) as server:
        yield server


@pytest.fixture
def zk_private_server() -> Iterator[LocalZooKeeper]:
    """A real ZooKeeper owned by one test (it may stop, restart or pause it)."""
    with LocalZooKeeper() as server:
        yield server


def connect(hosts: str, timeout: float = 10.0) -> KazooClient:
    """A started kazoo client."""
    client = KazooClient(hosts=hosts, timeout=timeout)
    client.start(timeout=30)
    return client


@pytest.fixture
def zk(zk_server: LocalZooKeeper) -> Iterator[KazooClient]:
    """A client on the shared server, with the tree wiped first."""
    if zk_server.paused:
        zk_server.resume()
    if not zk_server.running:
        zk_server.start()
    client = connect(zk_server.connect_string)
    client.add_auth(*SUPER_AUTH)
    for child in client.get_children("/"):
        if child != "zookeeper":
            client.delete(f"/{child}", recursive=True)
    yield client
    client.stop()
    client.close()


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` until truthy, or fail after ``timeout`` seconds (sync tests)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


def expire_session(client: KazooClient, hosts: str) -> None:
    """Expire ``client``'s session for real: another client attaches to it and closes it."""
    session_id, password = client.client_id
    other = KazooClient(hosts=hosts, client_id=(session_id, password), timeout=10)
    other.start(timeout=30)
    other.stop()
    other.close()


def register_provider(
    client: KazooClient,
    interface: str,
    host: str,
    port: int,
    *,
    protocol: str = "dubbo",
    root: str = "/dubbo",
    ephemeral: bool = True,
    **params: str,
) -> str:
    """Register a provider node as Dubbo does; returns its path."""
    url = provider_url(protocol, host, port, interface, dynamic=ephemeral, extra=params)
    return register(client, f"{root}/{interface}/providers", url, ephemeral=ephemeral)


def register_override(
    client: KazooClient,
    interface: str,
    host: str,
    port: int | None,
    *,
    root: str = "/dubbo",
    **params: str,
) -> str:
    """Register an ``override://`` configurator (persistent, as dubbo-admin writes them)."""
    merged = {"category": "configurators", "dynamic": "false", "enabled": "true", **params}
    authority_port = port or 0
    url = dubbo_url("override", host, authority_port, interface, merged)
    if port is None:
        url = url.replace(f"{host}:0/", f"{host}/", 1)
    return register(client, f"{root}/{interface}/configurators", url, ephemeral=False)


def unregister(client: KazooClient, path: str) -> None:
    """Delete a registration node (no error when already gone)."""
    with contextlib.suppress(Exception):
        client.delete(path)


def child_name(path: str) -> str:
    """The last segment of a node path (what a ProvidersChanged lists)."""
    return path.rsplit("/", 1)[1]


@dataclass
class LiveMirror:
    """What a running ``run_registry`` produced, plus its kazoo client (to expire its session)."""

    settings: RegistrySettings
    events: list[RegistryEvent] = field(default_factory=list)
    observer: RecordingObserver = field(default_factory=RecordingObserver)
    clients: list[KazooClient] = field(default_factory=list)
    builder: object | None = None
    violations: list[str] = field(default_factory=list)
    guarded: dict[str, frozenset[str]] = field(default_factory=dict)
    """directory -> provider names that must never disappear from an event (fault tests)."""

    @property
    def client(self) -> KazooClient:
        return self.clients[-1]

    def factory(self, settings: RegistrySettings) -> KazooClient:
        client = make_client(settings)
        self.clients.append(client)
        return client

    def on_event(self, event: RegistryEvent) -> None:
        self.events.append(event)
        if isinstance(event, ProvidersChanged):
            must = self.guarded.get(event.directory, frozenset())
            if not must <= event.children:
                self.violations.append(f"{event.directory} lost {sorted(must - event.children)}")
        if self.builder is not None:
            self.builder.apply(event)  # type: ignore[attr-defined]

    def providers(self, directory: str) -> frozenset[str] | None:
        """The last emitted provider names of ``directory`` (None: never emitted)."""
        for event in reversed(self.events):
            if isinstance(event, ProvidersChanged) and event.directory == directory:
                return event.children
        return None

    def catalog(self) -> object:
        """A fresh snapshot of the catalog builder fed by this mirror."""
        assert self.builder is not None, "catalog builder unavailable"
        return self.builder.snapshot()  # type: ignore[attr-defined]

    async def wait(
        self, predicate: Callable[[], object], within: float = 30.0, what: str = ""
    ) -> None:
        """Poll ``predicate`` until truthy or fail after ``within`` seconds."""
        with anyio.move_on_after(within) as scope:
            while not predicate():  # noqa: ASYNC110 - polling with a deadline is the house rule
                await anyio.sleep(0.01)
        if scope.cancelled_caught:
            pytest.fail(f"timed out waiting for {what or predicate}")


def _make_builder(name: str) -> object | None:
    try:
        from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder

        return CatalogBuilder([name], BuildPolicy(allow_loopback=True))
    except Exception:  # the builder is optional for event-level assertions
        return None


@asynccontextmanager
async def live_mirror(
    settings: RegistrySettings, *, ready_timeout: float = 60.0
) -> AsyncIterator[LiveMirror]:
    """Run the mirror for ``settings`` until the block ends; enter once it is ready."""
    mirror = LiveMirror(settings, builder=_make_builder(settings.name))
    async with anyio.create_task_group() as tg:
        with anyio.fail_after(ready_timeout):
            await tg.start(_run, settings, mirror, name=f"test-zk-{settings.name}")
        try:
            yield mirror
        finally:
            tg.cancel_scope.cancel()


async def _run(
    settings: RegistrySettings, mirror: LiveMirror, *, task_status: anyio.abc.TaskStatus[None]
) -> None:
    await run_registry(
        settings,
        mirror.on_event,
        mirror.observer,
        client_factory=mirror.factory,
        task_status=task_status,
    )


def settings_for(hosts: str, **overrides: object) -> RegistrySettings:
    """Test settings: short session timeout and quick reconnects."""
    values: dict[str, object] = {
        "name": "test",
        "hosts": hosts,
        "session_timeout": 4.0,
        "reconnect_max_delay": 0.5,
        "resync_interval": 0,
    }
    values.update(overrides)
    return RegistrySettings(**values)  # type: ignore[arg-type]


__all__ += ["child_name", "connect", "node_name", "settings_for"]
