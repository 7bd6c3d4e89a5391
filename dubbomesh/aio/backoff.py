"""Failure policy as data: capped, jittered exponential backoff as an iterator of delays.

Why this module exists: ZooKeeper reconnects, Kubernetes retries and xDS re-pushes all need the same
policy, and a policy that is a plain iterator is testable without a clock.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff: ``initial * factor**n`` capped at ``cap``, with full jitter."""

    initial: float = 0.2
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.5
    """Fraction of each delay that is randomised (0 = deterministic, 1 = full jitter)."""

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """An endless iterator of delays in seconds."""
        r = rng or random.Random()
        delay = self.initial
        while True:
            base = min(delay, self.cap)
            yield base * (1 - self.jitter) + base * self.jitter * r.random()
            delay = min(delay * self.factor, self.cap)
