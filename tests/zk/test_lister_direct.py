"""The lister's direct read path (kazoo's request queue, without get_children_async's checks and
path normalisation) answers, fails and watches exactly like kazoo's public calls; it is only taken
for normal absolute paths without a chroot. This pins the kazoo internals it relies on
(``KazooClient._call``, ``chroot``, the GetChildren/GetData requests, watch registration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from kazoo.protocol.paths import _prefix_root
from kazoo.protocol.serialization import GetData
from kazoo.protocol.states import EventType, WatchedEvent

from dubbomesh.agent.localzk import LocalZooKeeper
from dubbomesh.zk.client import make_client
from dubbomesh.zk.inbox import Inbox
from dubbomesh.zk.lister import Done, InboxItem, Lister
from dubbomesh.zk.paths import Kind, Node
from dubbomesh.zk.wire import ListChildren
from tests.support.zookeeper import settings_for

PROVIDERS = Node(Kind.PROVIDERS, "/dubbo/a/providers", "/dubbo", "a")
MAPPING = Node(Kind.MAPPING, "/dubbo/mapping/a", "/dubbo", "a")


class _Recorder:
    """Stands in for KazooClient: records which route each read took."""

    def __init__(self, chroot: str = "") -> None:
        self.chroot = chroot
        self.handler = make_client(settings_for("127.0.0.1:1")).handler
        self.direct: list[Any] = []
        self.public: list[tuple[str, str]] = []

    def _call(self, request: Any, result: Any) -> None:
        self.direct.append(request)

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
async def test_normal_paths_go_direct_odd_paths_and_chroots_through_kazoos_api() -> None:
    inbox: Inbox[InboxItem] = Inbox()
    rec = _Recorder()
    lister = Lister(rec, inbox, window=10)
    lister.request(PROVIDERS, True)
    lister.request(MAPPING, False)
    odd = Node(Kind.PROVIDERS, "/dubbo//b/providers", "/dubbo", "b")
    lister.request(odd, True)
    lister.pump()
    assert rec.direct == [
        ListChildren(PROVIDERS.path, lister._watch),
        GetData(MAPPING.path, lister._watch),
    ]
    assert type(rec.direct[0]) is ListChildren
    assert rec.public == [("children", odd.path)]

    chrooted = _Recorder(chroot="/tenant")
    lister = Lister(chrooted, inbox, window=10)
    lister.request(PROVIDERS, True)
    lister.pump()
    assert chrooted.direct == []
    assert chrooted.public == [("children", PROVIDERS.path)]


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
    inbox: Inbox[InboxItem] = Inbox()
    lister = Lister(live_client, inbox, window=10)
    assert lister._direct

    for node in (PROVIDERS, MAPPING):
        lister.request(node, True)
        lister.pump()
        done: Done = await _next(inbox, Done)
        assert done.node == node
        lister.finish(node)
        if node is PROVIDERS:
            assert sorted(done.result.get()) == sorted(live_client.get_children(node.path))
        else:
            assert done.result.get()[0] == live_client.get(node.path)[0] == b"app-a"

    missing = Node(Kind.PROVIDERS, "/dubbo/gone/providers", "/dubbo", "gone")
    lister.request(missing, True)
    lister.pump()
    failed: Done = await _next(inbox, Done)
    assert isinstance(failed.result.exception, NoNodeError)
    lister.finish(missing)

    # both reads left a watch: a new child and a data change come back as notifications
    zk.create("/dubbo/a/providers/p3")
    event: WatchedEvent = await _next(inbox, WatchedEvent)
    assert (event.type, event.path) == (EventType.CHILD, PROVIDERS.path)
    zk.set(MAPPING.path, b"app-b")
    event = await _next(inbox, WatchedEvent)
    assert (event.type, event.path) == (EventType.CHANGED, MAPPING.path)
