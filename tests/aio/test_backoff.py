"""Backoff: grows, caps, jitters within bounds."""

from __future__ import annotations

import itertools
import random

from dubbomesh.aio.backoff import Backoff


def test_deterministic_without_jitter() -> None:
    delays = list(itertools.islice(Backoff(0.1, 2.0, 1.0, 0.0).delays(), 6))
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_jitter_stays_within_bounds() -> None:
    b = Backoff(1.0, 2.0, 8.0, 0.5)
    for d, base in zip(b.delays(random.Random(7)), [1, 2, 4, 8, 8, 8], strict=False):
        assert base * 0.5 <= d <= base
