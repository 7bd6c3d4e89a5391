"""A latest-value cell: one writer publishes, many readers each take the newest value at their pace.

Why this module exists: the catalog feeds the xDS cache, the Kubernetes reconciler and the state
file. A slow consumer must never delay the others nor queue up old versions; it simply wakes up to
whatever is newest. Readers remember the generation they last saw and wait for a newer one.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class LatestValue(Generic[T]):
    """Holds the newest value and a generation counter; readers wait for generations they missed.

    Must be used from one event loop (anyio tasks); foreign threads must hand values over through
    the loop (``anyio.from_thread``) first.
    """

    def __init__(self) -> None:
        self._value: T | None = None
        self._generation = 0
        self._changed = anyio.Event()
        self._closed = False

    @property
    def generation(self) -> int:
        """0 before the first value; increases by one per :meth:`set`."""
        return self._generation

    def get(self) -> T | None:
        """The newest value, or None before the first :meth:`set`."""
        return self._value

    def set(self, value: T) -> None:
        """Publish a new value and wake every waiting reader."""
        if self._closed:
            raise RuntimeError("LatestValue is closed")
        self._value = value
        self._generation += 1
        event, self._changed = self._changed, anyio.Event()
        event.set()

    def close(self) -> None:
        """Wake all readers; further :meth:`wait_newer` calls raise ``anyio.EndOfStream``."""
        self._closed = True
        self._changed.set()

    async def wait_newer(self, seen: int) -> tuple[int, T]:
        """Wait until the generation exceeds ``seen``; return (generation, value)."""
        while self._generation <= seen:
            if self._closed:
                raise anyio.EndOfStream
            await self._changed.wait()
        if self._value is None:  # pragma: no cover - generation > 0 implies a value
            raise RuntimeError("LatestValue has no value")
        return self._generation, self._value
