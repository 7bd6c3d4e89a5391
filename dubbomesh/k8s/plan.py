"""Pure reconciliation planning: desired manifests + observed objects -> the writes to make.

Why this module exists: every safety rule of the Kubernetes sink is decided here, without IO, so it
is tested exhaustively with plain dicts:
- equal objects produce no action (zero writes);
- only objects carrying our ownership labels are updated or deleted; a desired name held by a
  foreign object is reported, never touched;
- an owned object missing from the intent is deleted only after it has been missing from COMPLETE
  intents for the whole grace period; an incomplete or stale intent resets every grace timer;
- an object the API server rejected is not retried until its content changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dubbomesh.k8s.manifest import CONTENT_VERSION, difference, is_owned

Json = dict[str, Any]
Key = tuple[str, str]
"""(kind, name) within the agent's namespace."""


@dataclass(frozen=True, slots=True)
class Action:
    """One write."""

    op: Literal["apply", "delete"]
    key: Key
    desired: Json | None
    """The manifest to apply (None for deletes)."""
    observed: Json | None
    """The owned object as observed (None when it does not exist yet)."""
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The outcome of one planning pass."""

    actions: tuple[Action, ...] = ()
    equal: int = 0
    """Desired objects already in step (no write)."""
    blocked: tuple[tuple[Key, str], ...] = ()
    """Desired objects we must not write, with the reason (foreign owner, rejected before)."""
    orphan_since: Mapping[Key, float] = field(default_factory=dict)
    """When each owned-but-undesired object was first seen missing (grace timers)."""
    next_deadline: float | None = None
    """Earliest time a grace timer expires (a pass is due then)."""


def content_of(manifest: Json) -> str:
    """The content-version annotation of a desired manifest."""
    return str(manifest["metadata"]["annotations"][CONTENT_VERSION])


def plan(
    desired: Mapping[Key, Json],
    observed: Mapping[Key, Json],
    *,
    registry_name: str,
    now: float,
    grace: float,
    deletions_allowed: bool,
    orphan_since: Mapping[Key, float],
    rejected: Mapping[Key, str],
) -> Plan:
    """Decide the writes that bring ``observed`` in step with ``desired``."""
    actions: list[Action] = []
    blocked: list[tuple[Key, str]] = []
    equal = 0
    for key, want in desired.items():
        have = observed.get(key)
        if have is not None and not is_owned(have, registry_name):
            blocked.append((key, "name taken by an object dubbomesh does not own"))
            continue
        if rejected.get(key) == content_of(want):
            blocked.append((key, "rejected by the API server; waiting for different content"))
            continue
        if have is None:
            actions.append(Action("apply", key, want, None, "missing"))
            continue
        reason = difference(want, have)
        if reason is None:
            equal += 1
        else:
            actions.append(Action("apply", key, want, have, reason))

    timers: dict[Key, float] = {}
    deadline: float | None = None
    for key, have in observed.items():
        if key in desired or not is_owned(have, registry_name):
            continue
        if not deletions_allowed:
            continue  # incomplete view: never delete, and the grace period starts over later
        since = orphan_since.get(key, now)
        if now - since >= grace:
            actions.append(Action("delete", key, None, have, "not in the intent"))
        else:
            timers[key] = since
            due = since + grace
            deadline = due if deadline is None else min(deadline, due)
    return Plan(tuple(actions), equal, tuple(blocked), timers, deadline)
