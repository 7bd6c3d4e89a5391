"""A bounded record of what the catalog builder had to skip, for metrics and the debug endpoint.

Why this module exists: a registry with 100,000 nodes can hold thousands of broken ones. Operators
need counts by reason (a metric per code) and a few concrete examples (the debug page), but never
an unbounded list that grows with the registry's mess.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BuildProblem:
    """One thing the builder skipped or doubted, with where it was."""

    code: str
    """Stable reason: ``malformed-name``, ``interface-mismatch``, ``unroutable``, ``loopback``,
    ``not-dubbo``, ``bad-rule``, ``bad-node``, ``instance-metadata-unavailable``..."""
    registry: str
    subject: str
    """A path, node name or application."""
    text: str = ""


class ProblemLog:
    """Counts per code (monotonic, like a Prometheus counter) plus the most recent examples."""

    def __init__(self, limit: int = 256) -> None:
        self.counts: Counter[str] = Counter()
        self._recent: deque[BuildProblem] = deque(maxlen=limit)

    def add(self, code: str, registry: str, subject: str, text: str = "") -> None:
        """Count one occurrence and keep it as an example (the oldest example falls off)."""
        self.counts[code] += 1
        self._recent.append(BuildProblem(code, registry, subject[:512], text[:512]))

    def recent(self) -> tuple[BuildProblem, ...]:
        """The kept examples, oldest first."""
        return tuple(self._recent)
