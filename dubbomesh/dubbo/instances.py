"""Dubbo 3 application-level discovery: instance JSON, MetadataInfo and mapping, as plain values.

Why this module exists: Dubbo 3 registers one ``/services/<app>/<ip:port>`` node per process (a
Curator ``ServiceInstance`` JSON), not one node per interface. Which services an instance serves is
in its MetadataInfo (``/<root>/metadata/<app>/<revision>`` when ``metadata-type=remote``); the
ports per protocol are in the instance's ``dubbo.endpoints``. Nested values are JSON strings inside
JSON. Spring Cloud Zookeeper writes the same tree with another ``@class``: skipped, never guessed.
See ``shared/reference/dubbo-registry.md`` s.4.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from dubbomesh.dubbo.model import Endpoint, ServiceId, Source

DUBBO_CLASS_PREFIXES = ("org.apache.dubbo.", "com.alibaba.dubbo.")


class InstanceError(ValueError):
    """A payload that yields no instance; ``code`` is a stable reason for metrics."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True, slots=True)
class Instance:
    """One enabled Dubbo process as registered for application-level discovery."""

    app: str
    address: str
    port: int
    revision: str = ""
    storage_type: str = "local"
    endpoints: tuple[tuple[str, int], ...] = ()
    """(protocol, port) from ``dubbo.endpoints``, sorted."""

    def port_for(self, protocol: str, service_port: int = 0) -> int:
        """The ``dubbo.endpoints`` port of ``protocol``, else ``service_port`` if > 0, else own."""
        for proto, port in self.endpoints:
            if proto == protocol:
                return port
        return service_port if service_port > 0 else self.port


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """One entry of MetadataInfo ``services`` (the fields, not the map key)."""

    interface: str
    group: str = ""
    version: str = ""
    protocol: str = "dubbo"
    port: int = 0
    params: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> ServiceId:
        return ServiceId(self.interface, self.group, self.version)


@dataclass(frozen=True, slots=True)
class MetadataInfo:
    """What one revision of an application serves."""

    app: str
    revision: str
    services: tuple[ServiceInfo, ...] = ()


def _load(data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InstanceError("bad-json", f"not JSON: {exc}") from None


def _port(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value if 0 < value <= 65535 else 0
    if isinstance(value, str) and value.isdigit():
        return _port(int(value))
    return 0


def parse_endpoints(text: str) -> tuple[tuple[str, int], ...]:
    """``dubbo.endpoints``: a JSON string holding ``[{"port": 20880, "protocol": "dubbo"}]``."""
    try:
        items = json.loads(text) if text else []
    except ValueError:
        raise InstanceError("bad-endpoints", f"dubbo.endpoints is not JSON: {text!r}") from None
    out: dict[str, int] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            proto, port = str(item.get("protocol") or ""), _port(item.get("port"))
            if proto and port:
                out.setdefault(proto, port)
    return tuple(sorted(out.items()))


def parse_instance(app: str, data: bytes) -> Instance:
    """Read one ``/services/<app>/<id>`` payload; raise :class:`InstanceError` when it yields no
    usable Dubbo instance (codes: bad-json, not-dubbo, disabled, bad-address, bad-endpoints)."""
    doc = _load(data)
    if not isinstance(doc, dict):
        raise InstanceError("bad-json", "instance payload is not a JSON object")
    payload = doc.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    metadata = payload.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    cls = str(payload.get("@class") or "")
    is_dubbo = cls.startswith(DUBBO_CLASS_PREFIXES) or (
        not cls and any(str(k).startswith("dubbo.") for k in metadata)
    )
    if not is_dubbo:
        raise InstanceError("not-dubbo", f"not a Dubbo instance (@class {cls or 'absent'!r})")
    if doc.get("enabled") is False or str(doc.get("enabled", "true")).lower() == "false":
        raise InstanceError("disabled", "instance has enabled:false")
    address, port = str(doc.get("address") or "").strip("[]"), _port(doc.get("port"))
    if not address or not port:
        raise InstanceError("bad-address", f"instance has no address/port: {address!r}:{port}")
    return Instance(
        app=str(doc.get("name") or app),
        address=address,
        port=port,
        revision=str(metadata.get("dubbo.metadata.revision") or ""),
        storage_type=str(metadata.get("dubbo.metadata.storage-type") or "local"),
        endpoints=parse_endpoints(str(metadata.get("dubbo.endpoints") or "")),
    )


def parse_metadata(data: bytes) -> MetadataInfo:
    """Read a MetadataInfo JSON (``services`` keyed by an opaque string; we use the fields)."""
    doc = _load(data)
    if not isinstance(doc, dict):
        raise InstanceError("bad-metadata", "MetadataInfo is not a JSON object")
    raw = doc.get("services")
    infos: list[ServiceInfo] = []
    for item in raw.values() if isinstance(raw, dict) else []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        params = item.get("params")
        pairs = (
            tuple(sorted((str(k), str(v)) for k, v in params.items()))
            if isinstance(params, dict)
            else ()
        )
        infos.append(
            ServiceInfo(
                interface=str(item["name"]),
                group=str(item.get("group") or ""),
                version=str(item.get("version") or ""),
                protocol=str(item.get("protocol") or "dubbo"),
                port=_port(item.get("port")),
                params=pairs,
            )
        )
    infos.sort(key=lambda s: (s.id, s.protocol, s.port))
    return MetadataInfo(str(doc.get("app") or ""), str(doc.get("revision") or ""), tuple(infos))


def parse_mapping(data: bytes | None) -> frozenset[str]:
    """``/<root>/mapping/<interface>``: comma-separated application names."""
    if not data:
        return frozenset()
    text = data.decode("utf-8", "replace")
    return frozenset(a.strip() for a in text.split(",") if a.strip())


def instance_endpoints(
    inst: Instance,
    services: Iterable[ServiceInfo],
    *,
    registry: str,
    volatile: frozenset[str],
) -> list[Endpoint]:
    """The endpoints ``inst`` serves, one per service and protocol (overrides not applied)."""
    out: list[Endpoint] = []
    for info in services:
        params = tuple(p for p in info.params if p[0] not in volatile)
        weight = next((v for k, v in params if k == "weight"), "")
        out.append(
            Endpoint(
                service=info.id,
                protocol=info.protocol,
                address=inst.address,
                port=inst.port_for(info.protocol, info.port),
                weight=max(int(weight), 0) if weight.isdigit() else 100,
                application=inst.app,
                registry=registry,
                source=Source.INSTANCE,
                params=params,
            )
        )
    return out
