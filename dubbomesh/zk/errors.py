"""Errors the ZooKeeper adapter raises at its boundary, named by what the caller should do.

Why this module exists: kazoo raises its own exception zoo from foreign threads. The rest of the
agent should only ever see these classes (habit 6 of the architecture guide): a config error means
"fix the settings, retrying is useless"; an auth error means "fix the credentials"; per-node read
problems are never raised at all but reported as ``BadNode`` events.
"""

from __future__ import annotations


class ZkError(Exception):
    """Base class of every error leaving ``dubbomesh.zk``."""


class ZkConfigError(ZkError, ValueError):
    """The registry settings are invalid. Permanent: fix the configuration."""


class ZkAuthError(ZkError):
    """The ensemble rejected our credentials. Permanent: fix ``auth_digest`` or TLS files."""


class ZkUnavailable(ZkError):
    """The ensemble could not be reached in time. Temporary: retry later (used by one-shot tools
    such as the demo seeder; the long-running mirror retries forever instead)."""
