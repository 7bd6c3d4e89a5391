"""A client-side token bucket (QPS + burst) protecting the API server from the agent.

Why this module exists: client-go's default (QPS 5, burst 10) is what made earlier tools take
20 minutes for a cold start; ours is configurable, shared by every request of one client, and a pure
clock-driven object (:meth:`TokenBucket.reserve`) so its arithmetic is tested without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio


class TokenBucket:
    """``burst`` tokens, refilled at ``qps`` per second; each request takes one."""

    def __init__(self, qps: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError("qps must be > 0 and burst >= 1")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def reserve(self) -> float:
        """Take one token now; return how many seconds the caller must wait before using it."""
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    async def acquire(self) -> None:
        """Wait for a token (fair: reservations are taken in call order)."""
        delay = self.reserve()
        if delay > 0:
            await anyio.sleep(delay)
