"""Which Dubbo services and applications an agent publishes: include/exclude glob filters.

Why this module exists: dubbomesh runs per namespace, and one ZooKeeper registry often holds the
services of many teams. Operators scope each agent to what belongs in its namespace by interface
(``com.acme.pay.*``) and by provider application, without touching the Dubbo applications.
Patterns are shell globs (``fnmatch.fnmatchcase``, case-sensitive, as Java names are).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from dubbomesh.dubbo.model import ServiceId


@dataclass(frozen=True, slots=True)
class ServiceFilter:
    """Empty include lists mean "everything"; excludes win over includes."""

    include_interfaces: tuple[str, ...] = ()
    exclude_interfaces: tuple[str, ...] = ()
    include_applications: tuple[str, ...] = ()
    exclude_applications: tuple[str, ...] = ()
    _memo: dict[object, bool] = field(default_factory=dict, compare=False, repr=False)

    @property
    def active(self) -> bool:
        """True when any pattern is set (the builder skips all checks otherwise)."""
        return bool(
            self.include_interfaces
            or self.exclude_interfaces
            or self.include_applications
            or self.exclude_applications
        )

    @staticmethod
    def _allowed(value: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
        if include and not any(fnmatchcase(value, p) for p in include):
            return False
        return not any(fnmatchcase(value, p) for p in exclude)

    def service(self, sid: ServiceId) -> bool:
        """Whether the service (by interface name) is published."""
        found = self._memo.get(sid)
        if found is None:
            found = self._allowed(sid.interface, self.include_interfaces, self.exclude_interfaces)
            self._memo[sid] = found
        return found

    def application(self, name: str) -> bool:
        """Whether endpoints of this provider application are published."""
        key = ("app", name)
        found = self._memo.get(key)
        if found is None:
            found = self._allowed(name, self.include_applications, self.exclude_applications)
            self._memo[key] = found
        return found
