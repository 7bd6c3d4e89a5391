"""The watcher's fault rules, driven with a scripted kazoo stand-in (no server, no clock)."""

from __future__ import annotations

import anyio
import pytest
from kazoo.client import KazooState
from kazoo.exceptions import ConnectionLoss, NoAuthError, NoNodeError

from dubbomesh.dubbo.registry import BadNode, ListingComplete, ProvidersChanged, RegistryEvent
from dubbomesh.zk.inbox import Inbox
from dubbomesh.zk.lister import InboxItem
from dubbomesh.zk.observer import PassReason, RecordingObserver
from dubbomesh.zk.settings import RegistrySettings
from dubbomesh.zk.watcher import RESYNC, Watcher
from tests.zk.fakes import FakeKazoo

pytestmark = pytest.mark.anyio

SETTINGS = RegistrySettings(name="r", application_discovery=False, resync_interval=0)
EMPTY_TOP = ("/dubbo/config/dubbo",)


class Rig:
    def __init__(self) -> None:
        self.client = FakeKazoo()
        self.inbox: Inbox[InboxItem] = Inbox()
        self.obs = RecordingObserver()
        self.w = Watcher(SETTINGS, self.client, self.inbox, self.obs)  # type: ignore[arg-type]
        self.events: list[RegistryEvent] = []

    async def step(self) -> None:
        """Process whatever is queued (like one turn of the watcher task)."""
        with anyio.fail_after(5):
            for item in await self.inbox.get_batch():
                self.w.handle(item)
        self.events += self.w.after_batch()

    async def connect(self) -> None:
        self.inbox.put(KazooState.CONNECTED)
        await self.step()

    async def answer(
        self, path: str, value: object = None, exc: BaseException | None = None
    ) -> None:
        self.client.answer(path, value, exc)
        await self.step()

    async def initial(self, dirs: dict[str, list[str]]) -> None:
        await self.connect()
        for path in EMPTY_TOP:
            await self.answer(path, exc=NoNodeError())
            await self.answer(path, None)  # exists probe: still absent
        await self.answer("/dubbo", list(dirs))
        for d, names in dirs.items():
            await self.answer(f"/dubbo/{d}/providers", names)
            await self.answer(f"/dubbo/{d}/configurators", [])


async def test_initial_listing_then_ready() -> None:
    rig = Rig()
    await rig.initial({"a": ["p1"], "b": []})
    assert isinstance(rig.events[-1], ListingComplete)
    assert ProvidersChanged("r", "/dubbo", "a", frozenset({"p1"})) in rig.events
    assert rig.w.ready
    assert rig.obs.passes[0][0] is PassReason.INITIAL


async def test_reads_lost_to_the_connection_remove_nothing_and_do_not_complete() -> None:
    rig = Rig()
    await rig.connect()
    for path in EMPTY_TOP:
        await rig.answer(path, [])
    await rig.answer("/dubbo", ["a"])
    await rig.answer("/dubbo/a/providers", exc=ConnectionLoss())
    await rig.answer("/dubbo/a/configurators", [])
    assert rig.events == []  # not complete: nothing published, not ready
    assert not rig.w.ready
    # the session comes back: everything is relisted and the pass completes
    await rig.connect()
    for path in EMPTY_TOP:
        await rig.answer(path, [])
    await rig.answer("/dubbo", ["a"])
    await rig.answer("/dubbo/a/providers", ["p1"])
    await rig.answer("/dubbo/a/configurators", [])
    got = [e for e in rig.events if isinstance(e, ProvidersChanged)]
    assert got == [ProvidersChanged("r", "/dubbo", "a", frozenset({"p1"}))]
    assert isinstance(rig.events[-1], ListingComplete)


async def test_suspension_emits_nothing_and_relist_publishes_only_the_difference() -> None:
    rig = Rig()
    await rig.initial({"a": ["p1"], "b": ["q1"]})
    mark = len(rig.events)
    rig.inbox.put(KazooState.SUSPENDED)
    await rig.step()
    assert rig.events[mark:] == []
    await rig.connect()
    await rig.answer("/dubbo/config/dubbo", [])
    await rig.answer("/dubbo", ["a", "b"])
    await rig.answer("/dubbo/a/providers", ["p1", "p2"])
    await rig.answer("/dubbo/a/configurators", [])
    await rig.answer("/dubbo/b/providers", ["q1"])
    await rig.answer("/dubbo/b/configurators", [])
    assert rig.events[mark:] == [
        ProvidersChanged("r", "/dubbo", "a", frozenset({"p1", "p2"})),
        ListingComplete("r"),
    ]


async def test_permission_denied_directory_is_skipped() -> None:
    rig = Rig()
    await rig.connect()
    await rig.answer("/dubbo/config/dubbo", [])
    await rig.answer("/dubbo", ["a", "secret"])
    await rig.answer("/dubbo/secret/providers", exc=NoAuthError())
    for path in ("/dubbo/secret/configurators", "/dubbo/a/configurators"):
        await rig.answer(path, [])
    await rig.answer("/dubbo/a/providers", ["p1"])
    assert BadNode("r", "/dubbo/secret/providers", "permission denied") in rig.events
    assert isinstance(rig.events[-1], ListingComplete)
    assert rig.obs.bad == [("/dubbo/secret/providers", "permission denied")]


async def test_a_node_created_between_read_and_probe_is_read_again() -> None:
    rig = Rig()
    await rig.connect()
    await rig.answer("/dubbo/config/dubbo", [])
    await rig.answer("/dubbo", ["a"])
    await rig.answer("/dubbo/a/configurators", [])
    await rig.answer("/dubbo/a/providers", exc=NoNodeError())
    await rig.answer("/dubbo/a/providers", object())  # the exists probe finds it
    assert not rig.w.ready
    await rig.answer("/dubbo/a/providers", ["p1"])
    assert ProvidersChanged("r", "/dubbo", "a", frozenset({"p1"})) in rig.events
    assert rig.w.ready


async def test_window_limits_reads_in_flight() -> None:
    rig = Rig()
    rig.w.lister._window = 3  # a tiny pipelining window
    await rig.connect()
    await rig.answer("/dubbo/config/dubbo", [])
    await rig.answer("/dubbo", [f"d{i}" for i in range(10)])
    assert len(rig.client.pending()) == 3


async def test_periodic_resync_counts_drift_and_publishes_it() -> None:
    rig = Rig()
    await rig.initial({"a": ["p1"], "b": ["q1"]})
    mark = len(rig.events)
    rig.inbox.put(RESYNC)
    await rig.step()
    await rig.answer("/dubbo/config/dubbo", [])
    await rig.answer("/dubbo", ["a", "b"])
    await rig.answer("/dubbo/a/providers", ["p1", "p2"])  # a watch was missed
    for path in ("/dubbo/a/configurators", "/dubbo/b/providers", "/dubbo/b/configurators"):
        await rig.answer(path, rig_value(path))
    assert rig.events[mark:] == [ProvidersChanged("r", "/dubbo", "a", frozenset({"p1", "p2"}))]
    assert rig.obs.drift == [1]
    assert rig.obs.passes[-1][0] is PassReason.RESYNC


def rig_value(path: str) -> list[str]:
    return ["q1"] if path == "/dubbo/b/providers" else []
