"""The event loop every async test runs in, and why it is not asyncio's plain one.

AnyIO gives each test its own event loop and closes it when the test ends. grpc.aio has ONE
completion queue per process: an operation a finished test left in flight (a server-side write a
stuck client never read, a cancelled call whose transport is torn down later) completes on
grpc's poller afterwards, and grpc hands the result to the loop the operation was created in with
``call_soon_threadsafe``. That loop is closed by then, so the call raises "Event loop is closed"
inside whatever test is running, and that unrelated test fails (reproduced: tests/xds and the
agent tests under two CPU burners failed in 4 of 20 runs; see grpc/grpc#25364 for grpc.aio and
several loops).

:class:`TestLoop` drops such a late callback on a closed loop instead of raising: its test has
ended and nothing is waiting for it. Everything else is asyncio's selector loop unchanged, so a
test's own operations, on its own open loop, behave exactly as in production.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any


class TestLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop, except that a thread-safe callback after close is dropped."""

    __test__ = False  # not a pytest test class

    def call_soon_threadsafe(  # type: ignore[override]
        self,
        callback: Callable[..., Any],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        if self.is_closed():
            handle = asyncio.Handle(callback, args, self, context)
            handle.cancel()
            return handle
        return super().call_soon_threadsafe(callback, *args, context=context)
