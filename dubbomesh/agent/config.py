"""Resolve the agent's configuration from flags, environment and a YAML file, and validate it.

Why this module exists: one precedence order (flag > ``DUBBOMESH_*`` env > ``--config`` YAML file
> default) applied to the declarations in :mod:`dubbomesh.agent.options`, and every error raised at
start-up naming the setting, its source and the fix, instead of a stack trace minutes later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from dubbomesh.agent.options import BY_NAME, OPTIONS, ConfigError, Option

SA_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
REDACTED = "<redacted>"


@dataclass(frozen=True, slots=True)
class ZkTarget:
    """One named ZooKeeper registry."""

    name: str
    hosts: str
    auth: str = ""
    """``user:password`` for digest auth; never logged."""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """Every setting, typed. Field docs live in :mod:`dubbomesh.agent.options` (``--help``)."""

    zk: tuple[str, ...]
    root: tuple[str, ...]
    services_root: str
    include_interface: tuple[str, ...]
    exclude_interface: tuple[str, ...]
    include_application: tuple[str, ...]
    exclude_application: tuple[str, ...]
    app_discovery: bool
    zk_auth: tuple[str, ...]
    zk_tls_ca: str
    zk_tls_cert: str
    zk_tls_key: str
    zk_session_timeout: float
    resync_interval: float
    owner: str
    namespace: str
    endpoint_mode: str
    host_template: str
    workload_host_template: str
    address_strategy: str
    registry_suffix: bool
    port: tuple[str, ...]
    label_param: tuple[str, ...]
    export_to: tuple[str, ...]
    aeraki: bool
    allow_loopback_endpoints: bool
    debounce: float
    debounce_max: float
    sink: tuple[str, ...]
    output_dir: str
    state_file: str
    xds_listen: tuple[str, ...]
    xds_uds: str
    xds_tls_cert: str
    xds_tls_key: str
    xds_tls_client_ca: str
    xds_max_streams: int
    kubeconfig: str
    kube_qps: float
    kube_burst: int
    delete_grace: float
    leader_elect: bool
    lease_name: str
    lease_duration: float
    pod_lookup: bool
    http_listen: str
    log_level: str
    log_format: str
    shutdown_timeout: float

    @property
    def registries(self) -> tuple[ZkTarget, ...]:
        """The ``--zk`` values, named, with their ``--zk-auth`` attached."""
        auth: dict[str, str] = {}
        for item in self.zk_auth:
            name, sep, cred = item.partition("=")
            if not sep or ":" in name:
                name, cred = "default", item
            auth[name] = cred
        out = []
        for item in self.zk:
            name, sep, hosts = item.partition("=")
            if not sep:
                name, hosts = "default", item
            out.append(ZkTarget(name, hosts, auth.get(name, "")))
        return tuple(out)

    def redacted(self) -> dict[str, Any]:
        """Effective settings for /debug/config and the start-up log: secrets replaced."""
        out: dict[str, Any] = {}
        for opt in OPTIONS:
            value = getattr(self, opt.attr)
            if opt.secret and value:
                value = [REDACTED for _ in value] if isinstance(value, tuple) else REDACTED
            elif isinstance(value, tuple):
                value = list(value)
            out[opt.name] = value
        return out


def _convert(opt: Option, raw: Any, source: str) -> Any:
    """Parse one raw value (str from flags/env, any YAML scalar or list from a file)."""
    try:
        if opt.many:
            if isinstance(raw, str):
                # Env lists are comma-separated, but a registry's host list contains commas:
                # several --zk registries in one env var are separated by ';'.
                sep = ";" if opt.name == "zk" else ","
                items = [p.strip() for p in raw.split(sep)] if source == "env" else [raw]
            elif isinstance(raw, list | tuple):
                items = [str(p) for p in raw]
            else:
                raise ValueError("expected a list")
            values = tuple(opt.parse(p) for p in items if p != "")
            bad = [v for v in values if opt.choices and v not in opt.choices]
            if bad:
                raise ValueError(f"{bad[0]!r} is not one of {', '.join(opt.choices)}")
            return values
        if isinstance(raw, bool) and opt.parse is not str:
            raw = str(raw).lower()
        value = opt.parse(str(raw))
        if opt.choices and value not in opt.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(opt.choices)}")
        return value
    except ValueError as exc:
        where = {"flag": opt.flag, "env": opt.env, "file": f"key '{opt.name}' in the config file"}
        raise ConfigError(f"{where.get(source, opt.name)}: {exc}. {opt.help}") from None


def load_file(path: str) -> dict[str, Any]:
    """Read a YAML config file (a mapping of option names to values)."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--config {path}: not valid YAML: {exc}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"--config {path}: expected a mapping of setting names to values")
    unknown = sorted(str(k) for k in doc if str(k).replace("_", "-") not in BY_NAME)
    if unknown:
        raise ConfigError(f"--config {path}: unknown setting(s) {', '.join(unknown)}")
    return {str(k).replace("_", "-"): v for k, v in doc.items()}


def resolve(
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    file_values: Mapping[str, Any] | None = None,
) -> AgentConfig:
    """Apply the precedence order and validate; ``flags`` holds only flags actually given."""
    env = os.environ if env is None else env
    file_values = file_values or {}
    values: dict[str, Any] = {}
    for opt in OPTIONS:
        if opt.name in flags and flags[opt.name] is not None:
            values[opt.attr] = _convert(opt, flags[opt.name], "flag")
        elif opt.env in env:
            values[opt.attr] = _convert(opt, env[opt.env], "env")
        elif opt.name in file_values:
            values[opt.attr] = _convert(opt, file_values[opt.name], "file")
        else:
            values[opt.attr] = tuple(opt.default) if opt.many else opt.default
    if not values["namespace"]:
        values["namespace"] = default_namespace(env)
    config = AgentConfig(**values)
    validate(config)
    return config


def default_namespace(env: Mapping[str, str]) -> str:
    """The pod's namespace (downward API env or service-account file), else ``default``."""
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    try:
        return SA_NAMESPACE_FILE.read_text(encoding="utf-8").strip() or "default"
    except OSError:
        return "default"


def _check_addr(name: str, value: str) -> None:
    if value == "none" or value.startswith("unix:"):
        return
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536 or not host:
        raise ConfigError(f"--{name} {value!r}: expected HOST:PORT (e.g. 127.0.0.1:9090)")


_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def validate(c: AgentConfig) -> None:
    """Cross-field checks; each error names the setting and the fix."""
    if not _DNS1123_LABEL.match(c.namespace):
        raise ConfigError(
            f"--namespace {c.namespace!r}: expected a Kubernetes namespace name "
            "(lower-case letters, digits and '-', at most 63 characters)"
        )
    if not _LABEL_VALUE.match(c.owner):
        raise ConfigError(
            f"--owner {c.owner!r}: expected a Kubernetes label value (letters, digits, '-', '_', "
            "'.', at most 63 characters, alphanumeric at both ends)"
        )
    names = set()
    for target in c.registries:
        if not target.hosts or any(":" not in h for h in target.hosts.split(",")):
            raise ConfigError(f"--zk {target.hosts!r}: expected HOST:PORT[,HOST:PORT...]")
        if target.name in names:
            raise ConfigError(f"--zk: registry name {target.name!r} given twice; name them")
        names.add(target.name)
    if not c.registries:
        raise ConfigError("--zk: at least one ZooKeeper registry is required")
    for r in c.root:
        if not r.startswith("/") or r == "/":
            raise ConfigError(f"--root {r!r}: expected an absolute path such as /dubbo")
    if "file" in c.sink and not c.output_dir:
        raise ConfigError("--sink file needs --output-dir DIR")
    if bool(c.xds_tls_cert) != bool(c.xds_tls_key):
        raise ConfigError("--xds-tls-cert and --xds-tls-key must be given together")
    if c.xds_tls_client_ca and not c.xds_tls_cert:
        raise ConfigError("--xds-tls-client-ca needs --xds-tls-cert and --xds-tls-key")
    if bool(c.zk_tls_cert) != bool(c.zk_tls_key):
        raise ConfigError("--zk-tls-cert and --zk-tls-key must be given together")
    for addr in c.xds_listen:
        _check_addr("xds-listen", addr)
    _check_addr("http-listen", c.http_listen)
    for item in c.port:
        proto, sep, number = item.partition("=")
        if not sep or not proto or not number.isdigit() or not 0 < int(number) < 65536:
            raise ConfigError(f"--port {item!r}: expected PROTOCOL=PORT such as tri=50051")
    for item in c.label_param:
        param, sep, label = item.partition("=")
        if not sep or not param or not label:
            raise ConfigError(f"--label-param {item!r}: expected PARAM=LABEL_KEY")
    if c.debounce_max < c.debounce:
        raise ConfigError("--debounce-max must be at least --debounce")
    if c.kube_qps <= 0 or c.kube_burst <= 0:
        raise ConfigError("--kube-qps and --kube-burst must be positive")
    for item in c.zk_auth:
        if ":" not in item:
            raise ConfigError("--zk-auth: expected [NAME=]USER:PASSWORD")


def option_fields_match() -> bool:
    """True when every option has a typed field (checked by a unit test)."""
    return {f.name for f in fields(AgentConfig)} == {o.attr for o in OPTIONS}
