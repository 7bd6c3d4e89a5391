"""kazoo's threading handler, made cheaper for the mirror: ``poll`` select, inline enqueueing.

Why this module exists: several costs of the stock handler sit on our hot paths.

- kazoo's connection thread calls ``handler.select`` once per request sent and once per response
  read. The stock handler builds a fresh ``selectors.DefaultSelector`` each time (epoll create, two
  registrations, wait, close: five system calls and a page of Python), about 40% of the connection
  thread's time during a 20,000-directory listing, itself the bottleneck of the first sync.
  ``poll`` has no descriptor limit either (the reason kazoo left ``select.select``) and needs one
  system call. Results follow kazoo's ``selector_select`` (the three shapes kazoo asks for take
  a short path).
- kazoo's async results allocate a Condition each; ours do only when somebody blocks
  (:mod:`dubbomesh.zk.result`).
- kazoo asks whether the socket is readable before each of the two reads of every reply; plain
  connections get a socket that reads ahead (:mod:`dubbomesh.zk.bufsock`), and :meth:`select`
  reports it readable while it holds bytes.
- Every watch notification and every completion callback is handed to a kazoo worker thread
  before it reaches our inbox: one extra thread hop (and its scheduling delay) on the way from a
  znode change to the catalog. Callbacks wrapped in :class:`Inline` (they only enqueue: never block,
  never call kazoo) run directly on the connection thread instead. Everything else (recipes, user
  watches) still goes through kazoo's workers, where blocking is allowed.
"""

from __future__ import annotations

import select
import socket
from typing import Any

from kazoo.handlers.threading import SequentialThreadingHandler
from kazoo.handlers.utils import fileobj_to_fd

from dubbomesh.zk.bufsock import BufferedSocket
from dubbomesh.zk.result import Inline, LazyAsyncResult

__all__ = ["BufferedSocket", "Inline", "LazyAsyncResult", "PollHandler", "poll_select"]

_READ = select.POLLIN
_WRITE = select.POLLOUT
_SOCKET = socket.socket


def _fd(fileobj: Any) -> int:
    # kazoo's fileobj_to_fd without its function call for the usual plain socket
    if type(fileobj) is BufferedSocket:
        fileobj = fileobj.sock
    if type(fileobj) is _SOCKET:
        fd: int = fileobj.fileno()
        if fd >= 0:
            return fd
    return int(fileobj_to_fd(fileobj))


def poll_select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    """``select.select``'s interface over one ``poll`` call (``xlist`` is ignored, as kazoo's
    own replacement ignores it).

    kazoo asks for one of three things, about five times per request answered: the socket
    readable, the socket writable, or the socket or its wake-up pipe readable. Those take a
    short path (one kind of readiness, so any event reported for a descriptor means "ready":
    error and hang-up flags count as both, as in selectors); mixed sets take the general one.
    """
    if timeout is None:
        ms = None
    elif not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number")
    elif timeout < 0:
        raise ValueError("timeout must be non-negative")
    else:
        ms = timeout * 1000
    if wlist:
        if rlist:
            return _poll_mixed(rlist, wlist, ms)
        objs, mask = wlist, _WRITE
    else:
        objs, mask = rlist, _READ
    poller = select.poll()
    if len(objs) == 1:
        poller.register(_fd(objs[0]), mask)
        if not poller.poll(ms):
            return [], [], []
        ready = list(objs)
    else:
        fds = []
        for fileobj in objs:
            fd = _fd(fileobj)
            poller.register(fd, mask)
            fds.append(fd)
        got = {fd for fd, _ in poller.poll(ms)}
        if not got:
            return [], [], []
        ready = [f for f, fd in zip(objs, fds, strict=True) if fd in got]
    return (ready, [], []) if mask == _READ else ([], ready, [])


def _poll_mixed(
    rlist: list[Any], wlist: list[Any], ms: float | None
) -> tuple[list[Any], list[Any], list[Any]]:
    wanted: dict[int, int] = {}
    objects: dict[int, list[Any]] = {}
    for mask, fileobjs in ((_READ, rlist), (_WRITE, wlist)):
        for fileobj in fileobjs:
            fd = _fd(fileobj)
            wanted[fd] = wanted.get(fd, 0) | mask
            objects.setdefault(fd, []).append(fileobj)
    poller = select.poll()
    for fd, mask in wanted.items():
        poller.register(fd, mask)
    ready = poller.poll(ms)
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


def _select_buffered(rlist: list[Any], wlist: list[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    # bytes read ahead are readable now; the rest is asked without waiting (requests to send
    # must not starve behind a backlog of replies)
    ready: list[Any] = []
    others: list[Any] = []
    for f in rlist:
        (ready if type(f) is BufferedSocket and f.pending() else others).append(f)
    if not others and not wlist:
        return ready, [], []
    readable, writable, _ = poll_select(others, wlist, [], 0)
    return ready + readable, writable, []


class PollHandler(SequentialThreadingHandler):  # type: ignore[misc]
    """kazoo's sequential threading handler, selecting with :func:`poll_select` and running
    :class:`Inline` callbacks without a thread hop."""

    name = "dubbomesh_poll_threading"

    def select(
        self, rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
    ) -> tuple[list[Any], list[Any], list[Any]]:
        for fileobj in rlist:
            if type(fileobj) is BufferedSocket and fileobj.pending():
                return _select_buffered(rlist, wlist)
        return poll_select(rlist, wlist, xlist, timeout)

    def create_connection(self, *args: Any, **kwargs: Any) -> Any:
        sock = super().create_connection(*args, **kwargs)
        return BufferedSocket(sock) if type(sock) is _SOCKET else sock  # not TLS: read ahead

    def async_result(self) -> LazyAsyncResult:
        return LazyAsyncResult(self)

    def dispatch_callback(self, callback: Any) -> None:
        if isinstance(callback.func, Inline):
            callback.func(*callback.args)
        else:
            super().dispatch_callback(callback)
