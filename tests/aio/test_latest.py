"""LatestValue: readers see the newest value, never queue old ones, wake on close."""

from __future__ import annotations

import anyio
import pytest

from dubbomesh.aio.latest import LatestValue


@pytest.mark.anyio
async def test_slow_reader_skips_to_newest() -> None:
    cell: LatestValue[int] = LatestValue()
    for i in range(5):
        cell.set(i)
    gen, value = await cell.wait_newer(0)
    assert (gen, value) == (5, 4)


@pytest.mark.anyio
async def test_reader_waits_for_next_value() -> None:
    cell: LatestValue[str] = LatestValue()
    got: list[str] = []

    async def reader() -> None:
        _, v = await cell.wait_newer(0)
        got.append(v)

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        await anyio.wait_all_tasks_blocked()
        assert got == []
        cell.set("a")
    assert got == ["a"]


@pytest.mark.anyio
async def test_close_wakes_readers() -> None:
    cell: LatestValue[int] = LatestValue()
    ended: list[bool] = []

    async def reader() -> None:
        try:
            await cell.wait_newer(0)
        except anyio.EndOfStream:
            ended.append(True)

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        await anyio.wait_all_tasks_blocked()
        cell.close()
    assert ended == [True]
    with pytest.raises(anyio.EndOfStream):
        await cell.wait_newer(0)
