"""kazoo's AsyncResult without a Condition per result: one is made only if somebody blocks.

Why this module exists: every read the mirror issues creates an async result, and kazoo's builds a
``threading.Condition`` (an RLock and a page of Python) for it up front. The mirror never blocks
on its results (it links a callback that only enqueues), so for a 20,000-directory listing that is
20,000 Conditions allocated, locked on ``rawlink`` and locked again on ``set``, for nothing: about
a tenth of the event loop's time during the first sync.

Here a result holds one plain ``threading.Lock`` (allocated in C, a fraction of the cost) guarding
its state; the Condition is made over that lock the first time a caller blocks in :meth:`get` or
:meth:`wait`, which kazoo's own blocking calls (``client.get_children`` is
``get_children_async().get()``) still do, with the same semantics.

Differences from kazoo's, all deliberate:
- Callbacks run after the lock is released (kazoo runs them while holding its Condition), so a
  callback may itself call :meth:`get` or :meth:`rawlink` on the same result without deadlocking.
- :meth:`rawlink` on a result that is already set dispatches only the new callback, once (kazoo
  dispatches every linked callback again).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from kazoo.handlers.threading import AsyncResult, KazooTimeoutError

_LOG = logging.getLogger("dubbomesh.zk.kazoo")

_UNSET: Any = object()


class Inline:
    """A callback that may run on kazoo's connection thread: it must only enqueue."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., None]) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> None:
        try:
            self.run(*args)
        except Exception:  # never let a callback kill kazoo's connection thread
            _LOG.exception("inline kazoo callback failed")

    def run(self, *args: Any) -> None:
        """The callback's work (subclasses may do theirs here, under the same guard)."""
        self.fn(*args)


class LazyAsyncResult(AsyncResult):  # type: ignore[misc]
    """An ``IAsyncResult`` for kazoo's threading handlers (a subclass of kazoo's own, so that
    isinstance checks keep working). :class:`Inline` callbacks run on the setting thread."""

    def __init__(self, handler: Any, callback: Callable[[Any], None] | None = None) -> None:
        """``callback``: linked from the start, as by :meth:`rawlink` but without taking the
        lock (nobody else can see the result yet)."""
        self._handler = handler
        self._lock = threading.Lock()
        self._condition: threading.Condition | None = None
        self._callbacks: list[Callable[[Any], None]] = [] if callback is None else [callback]
        self._timeout_factory = KazooTimeoutError
        self._state: Any = _UNSET  # None: holds a value; an exception: holds that
        self.value: Any = None

    # -- state ---------------------------------------------------------------------------------
    def ready(self) -> bool:
        """True once it holds a value or an exception."""
        return self._state is not _UNSET

    def successful(self) -> bool:
        """True once it holds a value."""
        return self._state is None

    @property
    def exception(self) -> BaseException | None:
        """The exception it holds, if any."""
        state = self._state
        return None if state is _UNSET else state

    # -- producing -----------------------------------------------------------------------------
    def set(self, value: Any = None) -> None:
        """Store ``value``; wake waiters; run (or hand out) the callbacks."""
        self._settle(value, None)

    def set_exception(self, exception: BaseException) -> None:
        """Store ``exception``; wake waiters; run (or hand out) the callbacks."""
        self._settle(None, exception)

    def _settle(self, value: Any, exception: BaseException | None) -> None:
        with self._lock:
            self.value = value
            self._state = exception
            callbacks, self._callbacks = self._callbacks, []
            if self._condition is not None:
                self._condition.notify_all()
        for callback in callbacks:
            self._dispatch(callback)

    def _dispatch(self, callback: Callable[[Any], None]) -> None:
        handler = self._handler
        if isinstance(callback, Inline) or not handler.running:
            callback(self)
        else:
            handler.completion_queue.put(functools.partial(callback, self))

    # -- consuming -----------------------------------------------------------------------------
    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """The value, or raise the exception; blocks (up to ``timeout``) unless ``block`` is
        false; raises ``KazooTimeoutError`` when nothing came in time."""
        if self._state is _UNSET and block:
            self._block(timeout)
        state = self._state
        if state is None:
            return self.value
        if state is _UNSET:
            raise self._timeout_factory()
        raise state

    def get_nowait(self) -> Any:
        """The value, or raise the exception (``KazooTimeoutError`` when not ready)."""
        return self.get(block=False)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ready (up to ``timeout``); returns whether it is."""
        if self._state is _UNSET:
            self._block(timeout)
        return self._state is not _UNSET

    def _block(self, timeout: float | None) -> None:
        with self._lock:
            if self._state is not _UNSET:
                return
            if self._condition is None:
                self._condition = threading.Condition(self._lock)
            self._condition.wait_for(self.ready, timeout)

    def rawlink(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(self)`` once this is set (now, if it already is)."""
        with self._lock:
            if self._state is _UNSET:
                if callback not in self._callbacks:
                    self._callbacks.append(callback)
                return
        self._dispatch(callback)

    def unlink(self, callback: Callable[[Any], None]) -> None:
        """Forget a callback linked with :meth:`rawlink` (no effect once set)."""
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)
