"""The server's watchdog ends a stream whose write waits too long for its client; any other
cancellation of the stream stays a cancellation. (The end-to-end case over grpc is in
test_bad_input.py; here the clock is an argument, so no test waits for time to pass.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from dubbomesh.xds.machine import Variant
from dubbomesh.xds.session import Refused, Session
from dubbomesh.xds.settings import NullObserver
from dubbomesh.xds.snapshot import SnapshotBuilder
from dubbomesh.xds.types import CLUSTER
from tests.xds.helpers import intent, many, sotw_request

pytestmark = pytest.mark.anyio


async def one_request() -> AsyncIterator[bytes]:
    yield sotw_request(CLUSTER).SerializeToString()
    await asyncio.get_running_loop().create_future()  # the client then stays silent


async def stuck_session() -> tuple[Session, asyncio.Task[Refused | None]]:
    """A session whose first write never completes (a client that does not read)."""
    session = Session(Variant.SOTW, "peer", NullObserver())
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def write(payload: bytes) -> None:
        await never

    snapshot = SnapshotBuilder().build(intent(*many(2)))
    task = asyncio.ensure_future(
        session.run(
            one_request(), write, lambda: snapshot, write_timeout=5, delivered=lambda _: None
        )
    )
    for _ in range(10_000):  # a bounded number of loop turns, no clock
        if session.writing_since is not None:
            break
        await asyncio.sleep(0)
    assert session.writing_since is not None
    return session, task


async def test_a_write_stuck_past_the_timeout_ends_the_stream_as_deadline_exceeded() -> None:
    session, task = await stuck_session()
    since = session.writing_since
    assert since is not None
    assert not session.expire_if_stuck(since + 4.9, 5.0)  # not yet
    assert session.expire_if_stuck(since + 5.0, 5.0)
    assert not session.expire_if_stuck(since + 9.0, 5.0)  # once
    refused = await task
    assert refused is not None
    assert (refused.status, refused.reason) == ("DEADLINE_EXCEEDED", "slow_reader")
    assert not task.cancelled()
    assert session.writing_since is None


async def test_other_cancellations_stay_cancellations() -> None:
    session, task = await stuck_session()
    task.cancel()  # server shutdown, not the watchdog
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not session.expire_if_stuck(10**9, 5.0)  # nothing is being written any more


async def test_an_idle_stream_never_expires() -> None:
    session = Session(Variant.SOTW, "peer", NullObserver())
    assert not session.expire_if_stuck(10**9, 5.0)
