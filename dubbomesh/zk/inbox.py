"""A thread-safe inbox: kazoo's threads drop items in, one event-loop task drains them in batches.

Why this module exists: kazoo calls watchers, completions and state listeners from its own threads.
Those callbacks must do nothing but enqueue (a foreign thread touching the mirror would race the
task that owns it). Putting never blocks the kazoo thread: the loop is woken with a non-blocking
"call soon" only when the inbox goes from empty to non-empty, so a burst of 20,000 completions costs
one wake-up and is drained as one batch.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel

T = TypeVar("T")


def _make_waker(token: anyio.lowlevel.EventLoopToken) -> Callable[[Callable[[], None]], None]:
    native = token.native_token
    call_soon = getattr(native, "call_soon_threadsafe", None)  # asyncio loop
    if call_soon is not None:
        return call_soon  # type: ignore[no-any-return]
    run_soon = getattr(native, "run_sync_soon", None)  # trio token
    if run_soon is not None:
        return run_soon  # type: ignore[no-any-return]
    return lambda fn: anyio.from_thread.run_sync(fn, token=token)  # pragma: no cover


class Inbox(Generic[T]):
    """Create in the event loop; :meth:`put` from any thread; :meth:`get_batch` from one task."""

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._signalled = False
        self._event = anyio.Event()
        self._loop_thread = threading.get_ident()
        self._wake_soon = _make_waker(anyio.lowlevel.current_token())
        self.closed = False

    def put(self, item: T) -> None:
        """Enqueue ``item``; safe from any thread, never blocks on the loop."""
        with self._lock:
            self._items.append(item)
            if self._signalled:
                return
            self._signalled = True
        if threading.get_ident() == self._loop_thread:
            self._event.set()
            return
        try:
            self._wake_soon(self._wake)
        except RuntimeError:  # the loop is closed: nobody will read any more
            self.closed = True

    def _wake(self) -> None:
        self._event.set()

    async def get_batch(self) -> list[T]:
        """Wait until at least one item is there; return every queued item, oldest first."""
        while True:
            with self._lock:
                if self._items:
                    batch = list(self._items)
                    self._items.clear()
                    self._signalled = False
                    return batch
                self._signalled = False
            await self._event.wait()
            self._event = anyio.Event()
