"""kazoo's threading handler with a cheaper ``select``: one ``poll`` call instead of an epoll set.

Why this module exists: kazoo's connection thread calls ``handler.select`` once per request sent
and once per response read. The stock handler builds a fresh ``selectors.DefaultSelector`` each
time (epoll create, two registrations, wait, close: five system calls and a page of Python), which
profiling showed to be about 40% of the connection thread's time during a 20,000-directory listing,
itself the bottleneck of the first sync. ``poll`` has no descriptor limit either (the reason kazoo
left ``select.select``) and needs one system call. Results follow kazoo's ``selector_select``
exactly: the same file objects back, "readable" winning when a descriptor is both.
"""

from __future__ import annotations

import select
from typing import Any

from kazoo.handlers.threading import SequentialThreadingHandler
from kazoo.handlers.utils import fileobj_to_fd

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


class PollHandler(SequentialThreadingHandler):  # type: ignore[misc]
    """kazoo's sequential threading handler, selecting with :func:`poll_select`."""

    name = "dubbomesh_poll_threading"

    def select(self, *args: Any, **kwargs: Any) -> tuple[list[Any], list[Any], list[Any]]:
        return poll_select(*args, **kwargs)
