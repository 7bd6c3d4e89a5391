"""The lister's direct read path (kazoo's request queue in batches, without get_children_async's
checks, path normalisation and one wake-up write per request) answers, fails and watches exactly
like kazoo's public calls; it is only taken for normal absolute paths without a chroot. This pins
the kazoo internals it relies on (``KazooClient._call``/``_queue``/``_state``/``chroot``,
``ConnectionHandler._write_sock``: one wake-up byte per queued request, GetChildren/GetData
requests, watch registration)."""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionClosedError, NoNodeError
from kazoo.protocol.paths import _prefix_root
from kazoo.protocol.serialization import GetData
from kazoo.protocol.states import EventType, KeeperState, WatchedEvent

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.zk.client import make_client
from dubbomesh.zk.inbox import Inbox
from dubbomesh.zk.lister import Done, InboxItem, Lister
from dubbomesh.zk.paths import Kind, Node
from dubbomesh.zk.result import LazyAsyncResult
from dubbomesh.zk.wire import ListChildren
from tests.support.zookeeper import settings_for

PROVIDERS = Node(Kind.PROVIDERS, "/dubbo/a/providers", "/dubbo", "a")
MAPPING = Node(Kind.MAPPING, "/dubbo/mapping/a", "/dubbo", "a")


class _Connection:
    def __init__(self) -> None:
        self.wake_r, self._write_sock = socket.socketpair()


class _Recorder:
    """Stands in for KazooClient: records which route each read took."""

    def __init__(self, chroot: str = "") -> None:
        self.chroot = chroot
        self.handler = make_client(settings_for("127.0.0.1:1")).handler
        self._state = KeeperState.CONNECTED
        self._queue: deque[tuple[Any, Any]] = deque()
        self._connection = _Connection()
        self.called: list[Any] = []
        self.public: list[tuple[str, str]] = []

    def _call(self, request: Any, result: Any) -> None:
        self.called.append(request)

    def wake_bytes(self) -> bytes:
        self._connection.wake_r.setblocking(False)
        try:
            return self._connection.wake_r.recv(4096)
        except BlockingIOError:
            return b""

    def get_children_async(self, path: str, watch: Any = None) -> Any:
        self.public.append(("children", path))
        return self.handler.async_result()

    def get_async(self, path: str, watch: Any = None) -> Any:
        self.public.append(("data", path))
        return self.handler.async_result()


@pytest.mark.parametrize(
    "path",
    ["/dubbo", "/dubbo/a/providers", "/services/app/10.0.0.1:20880", "/a/dubbo%3A%2F%2F1.2.3.4"],
)
def test_the_paths_sent_directly_are_those_kazoo_would_send(path: str) -> None:
    assert _prefix_root("", path) == path


@pytest.mark.anyio
async def test_normal_paths_go_direct_in_one_batch_odd_paths_and_chroots_do_not() -> None:
    inbox: Inbox[InboxItem] = Inbox()
    rec = _Recorder()
    lister = Lister(rec, inbox, window=10)
    lister.request(PROVIDERS, True)
    lister.request(MAPPING, False)
    odd = Node(Kind.PROVIDERS, "/dubbo//b/providers", "/dubbo", "b")
    lister.request(odd, True)
    lister.pump()
    requests = [request for request, _ in rec._queue]
    assert requests == [
        ListChildren(PROVIDERS.path, lister._watch),
        GetData(MAPPING.path, lister._watch),
    ]
    assert type(requests[0]) is ListChildren
    assert all(isinstance(result, LazyAsyncResult) for _, result in rec._queue)
    assert rec.wake_bytes() == b"\0\0"  # kazoo sends one queued request per byte it reads
    assert rec.called == []
    assert rec.public == [("children", odd.path)]

    chrooted = _Recorder(chroot="/tenant")
    lister = Lister(chrooted, inbox, window=10)
    lister.request(PROVIDERS, True)
    lister.pump()
    assert not chrooted._queue
    assert chrooted.public == [("children", PROVIDERS.path)]


@pytest.mark.anyio
async def test_single_reads_and_closed_clients_go_through_kazoos_call() -> None:
    inbox: Inbox[InboxItem] = Inbox()
    rec = _Recorder()
    lister = Lister(rec, inbox, window=10)
    lister.request(PROVIDERS, True)
    lister.pump()
    assert rec.called == [ListChildren(PROVIDERS.path, lister._watch)]
    rec.called.clear()
    rec._state = KeeperState.CLOSED  # kazoo's _call fails requests itself in this state
    lister.request(MAPPING, True)
    lister.request(Node(Kind.PROVIDERS, "/dubbo/b/providers", "/dubbo", "b"), True)
    lister.pump()
    assert len(rec.called) == 2
    assert not rec._queue


@pytest.mark.anyio
async def test_a_wake_up_pipe_gone_fails_the_batch_like_kazoo() -> None:
    inbox: Inbox[InboxItem] = Inbox()
    rec = _Recorder()
    rec._connection._write_sock = None  # type: ignore[assignment]
    lister = Lister(rec, inbox, window=10)
    lister.request(PROVIDERS, True)
    lister.request(MAPPING, True)
    lister.pump()
    failures: list[Done] = []
    with anyio.fail_after(30):
        while len(failures) < 2:
            failures += [d for d in await inbox.get_batch() if isinstance(d, Done)]
    assert {type(d.result.exception) for d in failures} == {ConnectionClosedError}


@pytest.fixture
async def live_client(zk_server: LocalZooKeeper) -> AsyncIterator[KazooClient]:
    client = make_client(settings_for(zk_server.connect_string))
    await anyio.to_thread.run_sync(lambda: client.start(timeout=30))
    try:
        yield client
    finally:
        await anyio.to_thread.run_sync(client.stop)
        client.close()


async def _next(inbox: Inbox[InboxItem], kind: type) -> Any:
    with anyio.fail_after(30):
        while True:
            for item in await inbox.get_batch():
                if isinstance(item, kind):
                    return item


@pytest.mark.integration
@pytest.mark.anyio
async def test_direct_reads_answer_fail_and_watch_like_kazoo(
    zk: KazooClient, live_client: KazooClient
) -> None:
    zk.create("/dubbo/a/providers/p1", makepath=True)
    zk.create("/dubbo/a/providers/p2")
    zk.create("/dubbo/mapping/a", b"app-a", makepath=True)
    for i in range(40):
        zk.create(f"/dubbo/s{i}/providers/p{i}", makepath=True)
    inbox: Inbox[InboxItem] = Inbox()
    lister = Lister(live_client, inbox, window=100)
    assert lister._submit is not None
    missing = Node(Kind.PROVIDERS, "/dubbo/gone/providers", "/dubbo", "gone")
    many = [Node(Kind.PROVIDERS, f"/dubbo/s{i}/providers", "/dubbo", f"s{i}") for i in range(40)]
    for node in (PROVIDERS, MAPPING, missing, *many):
        lister.request(node, True)
    lister.pump()  # one batch: 43 requests, one wake-up write
    assert lister.in_flight_count == 43
    done: dict[str, Done] = {}
    with anyio.fail_after(30):
        while len(done) < 43:
            done.update((d.node.path, d) for d in await inbox.get_batch() if isinstance(d, Done))
    for d in done.values():
        lister.finish(d.node)
    assert sorted(done[PROVIDERS.path].result.get()) == ["p1", "p2"]
    assert done[MAPPING.path].result.get()[0] == live_client.get(MAPPING.path)[0] == b"app-a"
    assert isinstance(done[missing.path].result.exception, NoNodeError)
    for i, node in enumerate(many):
        assert done[node.path].result.get() == live_client.get_children(node.path) == [f"p{i}"]

    # both reads left a watch: a new child and a data change come back as notifications
    zk.create("/dubbo/a/providers/p3")
    event: WatchedEvent = await _next(inbox, WatchedEvent)
    assert (event.type, event.path) == (EventType.CHILD, PROVIDERS.path)
    zk.set(MAPPING.path, b"app-b")
    event = await _next(inbox, WatchedEvent)
    assert (event.type, event.path) == (EventType.CHANGED, MAPPING.path)
