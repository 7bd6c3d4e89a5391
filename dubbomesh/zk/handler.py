"""kazoo's threading handler, made cheaper for the mirror: ``poll`` select, inline enqueueing.

Why this module exists: two costs of the stock handler sit on our hot paths.

- kazoo's connection thread calls ``handler.select`` once per request sent and once per response
  read. The stock handler builds a fresh ``selectors.DefaultSelector`` each time (epoll create, two
  registrations, wait, close: five system calls and a page of Python), about 40% of the connection
  thread's time during a 20,000-directory listing, itself the bottleneck of the first sync.
  ``poll`` has no descriptor limit either (the reason kazoo left ``select.select``) and needs one
  system call. Results follow kazoo's ``selector_select`` exactly.
- Every watch notification and every completion callback is handed to a kazoo worker thread
  before it reaches our inbox: one extra thread hop (and its scheduling delay) on the way from a
  znode change to the catalog. Callbacks wrapped in :class:`Inline` (they only enqueue: never block,
  never call kazoo) run directly on the connection thread instead. Everything else (recipes, user
  watches) still goes through kazoo's workers, where blocking is allowed.
"""

from __future__ import annotations

import functools
import logging
import select
from collections.abc import Callable
from typing import Any

from kazoo.handlers.threading import AsyncResult, SequentialThreadingHandler
from kazoo.handlers.utils import fileobj_to_fd

_LOG = logging.getLogger("dubbomesh.zk.kazoo")

_READ = select.POLLIN
_WRITE = select.POLLOUT


def poll_select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    """``select.select``'s interface over one ``poll`` call (``xlist`` is ignored, as kazoo's
    own replacement ignores it)."""
    if timeout is not None:
        if not isinstance(timeout, (int, float)):
            raise TypeError("timeout must be a number")
        if timeout < 0:
            raise ValueError("timeout must be non-negative")
    wanted: dict[int, int] = {}
    objects: dict[int, list[Any]] = {}
    for mask, fileobjs in ((_READ, rlist), (_WRITE, wlist)):
        for fileobj in fileobjs:
            fd = fileobj_to_fd(fileobj)
            wanted[fd] = wanted.get(fd, 0) | mask
            objects.setdefault(fd, []).append(fileobj)
    poller = select.poll()
    for fd, mask in wanted.items():
        poller.register(fd, mask)
    ready = poller.poll(None if timeout is None else timeout * 1000)
    readable: list[Any] = []
    writable: list[Any] = []
    for fd, got in ready:
        # as selectors does: error/hang-up flags count as both, then only what was asked for
        events = (_WRITE if got & ~_READ else 0) | (_READ if got & ~_WRITE else 0)
        events &= wanted.get(fd, 0)
        if events & _READ:
            readable.extend(objects[fd])
        elif events & _WRITE:
            writable.extend(objects[fd])
    return readable, writable, []


class Inline:
    """A callback that may run on kazoo's connection thread: it must only enqueue."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., None]) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> None:
        try:
            self.fn(*args)
        except Exception:  # never let a callback kill kazoo's connection thread
            _LOG.exception("inline kazoo callback failed")


class _AsyncResult(AsyncResult):  # type: ignore[misc]
    def _do_callbacks(self) -> None:
        for callback in self._callbacks:
            if isinstance(callback, Inline) or not self._handler.running:
                callback(self)
            else:
                self._handler.completion_queue.put(functools.partial(callback, self))


class PollHandler(SequentialThreadingHandler):  # type: ignore[misc]
    """kazoo's sequential threading handler, selecting with :func:`poll_select` and running
    :class:`Inline` callbacks without a thread hop."""

    name = "dubbomesh_poll_threading"

    def select(self, *args: Any, **kwargs: Any) -> tuple[list[Any], list[Any], list[Any]]:
        return poll_select(*args, **kwargs)

    def async_result(self) -> AsyncResult:
        return _AsyncResult(self)

    def dispatch_callback(self, callback: Any) -> None:
        if isinstance(callback.func, Inline):
            callback.func(*callback.args)
        else:
            super().dispatch_callback(callback)
