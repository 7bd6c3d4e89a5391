"""Shared pytest configuration: fixture plugins of each area register here (append to the list).

It also keeps a finished run from hanging: Python joins every non-daemon thread at exit, and
AnyIO's worker threads are non-daemon. A test that abandons one blocked on a socket (the agent's
Kubernetes watch pump is run with ``abandon_on_cancel``) would hold the process after the summary
is printed, so CI would time out on a run that had ended. Such threads are listed, with where they
are blocked, and the process ends with pytest's own exit status.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback

import pytest

from tests.support.loops import TestLoop

pytest_plugins = ["tests.support.zookeeper", "tests.support.kube"]

_EXIT_GRACE_SECONDS = 5.0


@pytest.fixture(
    scope="module", params=[pytest.param(("asyncio", {"loop_factory": TestLoop}), id="asyncio")]
)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    """Async tests run on asyncio, in a :class:`~tests.support.loops.TestLoop` (why: there)."""
    return request.param


_EXIT_STATUS = pytest.StashKey[int]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None:
        return
    stuck = [t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
    for t in stuck:
        t.join(_EXIT_GRACE_SECONDS / max(1, len(stuck)))
    stuck = [t for t in stuck if t.is_alive()]
    if not stuck:
        return
    frames = sys._current_frames()
    out = [f"conftest: {len(stuck)} non-daemon thread(s) still running after the session:"]
    for t in stuck:
        out.append(f"--- {t.name} (ident {t.ident})")
        frame = frames.get(t.ident or -1)
        if frame is not None:
            out.extend(line.rstrip() for line in traceback.format_stack(frame)[-6:])
    print("\n".join(out), file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(status)
