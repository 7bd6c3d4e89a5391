"""A scripted stand-in for kazoo's client: the test decides what every read answers, and when."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class FakeResult:
    """Mimics kazoo's IAsyncResult: ``value``/``exception`` and ``rawlink`` callbacks."""

    def __init__(self) -> None:
        self.value: Any = None
        self.exception: BaseException | None = None
        self._links: list[Callable[[FakeResult], None]] = []
        self.done = False

    def rawlink(self, fn: Callable[[FakeResult], None]) -> None:
        self._links.append(fn)
        if self.done:
            fn(self)

    def set(self, value: Any) -> None:
        self.value, self.done = value, True
        for fn in self._links:
            fn(self)

    def set_exception(self, exc: BaseException) -> None:
        self.exception, self.done = exc, True
        for fn in self._links:
            fn(self)


@dataclass
class FakeKazoo:
    """Records every read; ``client_id`` and listeners like kazoo's."""

    client_id: tuple[int, bytes] | None = (1, b"pw")
    client_state: str = "CONNECTED"
    reads: list[tuple[str, str, FakeResult]] = field(default_factory=list)
    listeners: list[Callable[[str], None]] = field(default_factory=list)

    def _read(self, op: str, path: str) -> FakeResult:
        result = FakeResult()
        self.reads.append((op, path, result))
        return result

    def get_children_async(self, path: str, watch: object = None) -> FakeResult:
        return self._read("children", path)

    def get_async(self, path: str, watch: object = None) -> FakeResult:
        return self._read("data", path)

    def exists_async(self, path: str, watch: object = None) -> FakeResult:
        return self._read("exists", path)

    def pending(self, op: str | None = None) -> list[tuple[str, str, FakeResult]]:
        return [r for r in self.reads if not r[2].done and (op is None or r[0] == op)]

    def answer(self, path: str, value: Any = None, exc: BaseException | None = None) -> None:
        """Answer the oldest pending read of ``path``."""
        for _, p, result in self.reads:
            if p == path and not result.done:
                if exc is not None:
                    result.set_exception(exc)
                else:
                    result.set(value)
                return
        raise AssertionError(f"no pending read of {path}")
