"""Lease election rules on a fake lease store with a fake clock (no API server, no sleeping)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dubbomesh.k8s import errors
from dubbomesh.k8s.leader import LeaderElector
from dubbomesh.k8s.observer import CountingObserver
from dubbomesh.k8s.settings import K8sSettings

pytestmark = pytest.mark.anyio


class FakeLeases:
    """One Lease with resourceVersion preconditions, answering like the API server."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.rv = 0

    async def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> Any:
        if method == "GET":
            if self.lease is None:
                raise errors.NotFound("lease", status=404)
            return copy.deepcopy(self.lease)
        if method == "POST":
            if self.lease is not None:
                raise errors.AlreadyExists("exists", status=409)
        elif method == "PUT":
            assert self.lease is not None
            if body["metadata"]["resourceVersion"] != self.lease["metadata"]["resourceVersion"]:
                raise errors.Conflict("conflict", status=409)
        self.rv += 1
        self.lease = copy.deepcopy(body)
        self.lease["metadata"]["resourceVersion"] = str(self.rv)
        return copy.deepcopy(self.lease)


class FakeClient:
    def __init__(self, store: FakeLeases) -> None:
        self.request = store.request


def elector(store: FakeLeases, name: str, now: list[float]) -> LeaderElector:
    settings = K8sSettings(
        namespace="ns", identity=name, lease_duration=10, renew_deadline=6, retry_period=2
    )
    return LeaderElector(
        FakeClient(store),  # type: ignore[arg-type]
        settings,
        CountingObserver(),
        clock=lambda: now[0],
    )


async def test_follower_waits_for_the_record_to_go_stale_by_its_own_clock() -> None:
    store, now = FakeLeases(), [0.0]
    a, b = elector(store, "a", now), elector(store, "b", now)
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()  # b first sees the record at t=0
    now[0] = 9.0
    assert await a.try_acquire_or_renew()  # renewal changes the record
    now[0] = 12.0
    assert not await b.try_acquire_or_renew()  # b sees the change at 12: expiry 22
    now[0] = 21.9
    assert not await b.try_acquire_or_renew()
    now[0] = 22.0
    assert await b.try_acquire_or_renew()
    assert store.lease is not None
    assert store.lease["spec"]["holderIdentity"] == "b"
    assert store.lease["spec"]["leaseTransitions"] == 1


async def test_release_lets_the_follower_take_over_at_once() -> None:
    store, now = FakeLeases(), [0.0]
    a, b = elector(store, "a", now), elector(store, "b", now)
    assert await a.try_acquire_or_renew()
    a.is_leader = True
    assert not await b.try_acquire_or_renew()
    await a.release()
    assert store.lease is not None
    assert store.lease["spec"]["holderIdentity"] == ""
    assert await b.try_acquire_or_renew()


async def test_a_takeover_racing_a_renewal_loses_on_the_resource_version() -> None:
    store, now = FakeLeases(), [0.0]
    a, b = elector(store, "a", now), elector(store, "b", now)
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()
    now[0] = 50.0  # a looks dead to b ...
    original = store.request

    async def renew_first(method: str, path: str, **kw: Any) -> Any:
        if method == "PUT" and kw["body"]["spec"]["holderIdentity"] == "b":
            store.request = original
            await a.try_acquire_or_renew()  # ... but renews between b's GET and b's PUT
        return await original(method, path, **kw)

    store.request = renew_first  # type: ignore[method-assign]
    b.client.request = renew_first  # type: ignore[method-assign]
    assert not await b.try_acquire_or_renew()
    assert store.lease is not None
    assert store.lease["spec"]["holderIdentity"] == "a"
