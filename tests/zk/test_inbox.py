"""The inbox: foreign threads only enqueue; one task drains everything, in order, in batches."""

from __future__ import annotations

import threading

import anyio
import anyio.lowlevel
import pytest

from dubbomesh.zk.inbox import Inbox

pytestmark = pytest.mark.anyio


async def test_items_from_many_threads_all_arrive_in_per_thread_order() -> None:
    inbox: Inbox[tuple[int, int]] = Inbox()
    per_thread = 2000

    def producer(t: int) -> None:
        for i in range(per_thread):
            inbox.put((t, i))

    threads = [threading.Thread(target=producer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    got: list[tuple[int, int]] = []
    batches = 0
    with anyio.fail_after(10):
        while len(got) < 4 * per_thread:
            got += await inbox.get_batch()
            batches += 1
    for th in threads:
        th.join()
    for t in range(4):
        assert [i for tt, i in got if tt == t] == list(range(per_thread))
    assert batches <= len(got)


async def test_put_from_the_loop_thread_wakes_the_reader() -> None:
    inbox: Inbox[str] = Inbox()
    async with anyio.create_task_group() as tg:
        result: list[list[str]] = []

        async def reader() -> None:
            result.append(await inbox.get_batch())

        tg.start_soon(reader)
        await anyio.lowlevel.checkpoint()
        inbox.put("a")
        inbox.put("b")
    assert result == [["a", "b"]]
