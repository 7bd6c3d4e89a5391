"""The table of every agent setting: one declaration gives a flag, an env var and a YAML key.

Why this module exists: operators configure the agent through Helm values (a YAML file), through
environment variables (Secrets) and through flags (local runs). Declaring each setting once, with
its type, default and help, keeps the three in step, lets ``--help`` and the README table be
generated from the same source, and gives one precedence order: flag > environment > file >
default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """A setting has an invalid value. The message names the setting and the fix."""


def parse_bool(text: str) -> bool:
    """``true/false``, ``1/0``, ``yes/no``, ``on/off`` (case-insensitive)."""
    low = text.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_duration(text: str) -> float:
    """Seconds as a number, or with a unit suffix: ``250ms``, ``10s``, ``5m``, ``1h``."""
    t = text.strip().lower()
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if t.endswith(suffix) and t[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(t[: -len(suffix)]) * scale
    value = float(t)
    if value < 0:
        raise ValueError("must not be negative")
    return value


@dataclass(frozen=True, slots=True)
class Option:
    """One setting."""

    name: str
    """The setting's key, with dashes: the flag is ``--name``, the YAML key is ``name``."""
    default: Any
    help: str
    group: str
    parse: Callable[[str], Any] = str
    many: bool = False
    """A list: the flag repeats, the env var is comma-separated, the YAML value is a list."""
    choices: tuple[str, ...] = ()
    secret: bool = False
    """Redacted in /debug/config and logs."""
    metavar: str = ""

    @property
    def flag(self) -> str:
        """The command-line flag."""
        return f"--{self.name}"

    @property
    def env(self) -> str:
        """The environment variable."""
        return "DUBBOMESH_" + self.name.upper().replace("-", "_").replace(".", "_")

    @property
    def attr(self) -> str:
        """The attribute name on :class:`~dubbomesh.agent.config.AgentConfig`."""
        return self.name.replace("-", "_")


def _o(name: str, default: Any, help: str, group: str, **kw: Any) -> Option:
    return Option(name=name, default=default, help=help, group=group, **kw)


OPTIONS: tuple[Option, ...] = (
    # ZooKeeper
    _o(
        "zk",
        ["127.0.0.1:2181"],
        "ZooKeeper registry as [NAME=]HOST:PORT[,HOST:PORT...]; repeat "
        "for several ensembles (each a named registry; default name 'default').",
        "zookeeper",
        many=True,
        metavar="[NAME=]HOSTS",
    ),
    _o(
        "root",
        ["/dubbo"],
        "Interface-level registry root (a registry URL's group param); repeatable.",
        "zookeeper",
        many=True,
        metavar="PATH",
    ),
    _o("services-root", "/services", "Dubbo 3 application-level discovery root.", "zookeeper"),
    _o(
        "include-interface",
        [],
        "Publish only interfaces matching one of these shell globs (e.g. 'com.acme.pay.*'); "
        "repeatable; empty = all. Scopes a per-namespace agent to its team's services.",
        "zookeeper",
        many=True,
        metavar="GLOB",
    ),
    _o(
        "exclude-interface",
        [],
        "Never publish interfaces matching these globs (wins over --include-interface).",
        "zookeeper",
        many=True,
        metavar="GLOB",
    ),
    _o(
        "include-application",
        [],
        "Publish only endpoints of provider applications matching these globs; empty = all.",
        "zookeeper",
        many=True,
        metavar="GLOB",
    ),
    _o(
        "exclude-application",
        [],
        "Never publish endpoints of provider applications matching these globs.",
        "zookeeper",
        many=True,
        metavar="GLOB",
    ),
    _o(
        "app-discovery",
        True,
        "Read Dubbo 3 application-level instances (/services, mapping, metadata).",
        "zookeeper",
        parse=parse_bool,
    ),
    _o(
        "zk-auth",
        [],
        "Digest auth as [NAME=]USER:PASSWORD per registry (prefer the env var from a Secret).",
        "zookeeper",
        many=True,
        secret=True,
        metavar="[NAME=]USER:PASS",
    ),
    _o("zk-tls-ca", "", "CA bundle for ZooKeeper TLS (enables TLS).", "zookeeper"),
    _o("zk-tls-cert", "", "Client certificate for ZooKeeper mutual TLS.", "zookeeper"),
    _o("zk-tls-key", "", "Client key for ZooKeeper mutual TLS.", "zookeeper", secret=True),
    _o(
        "zk-session-timeout",
        30.0,
        "ZooKeeper session timeout (seconds or 10s/1m).",
        "zookeeper",
        parse=parse_duration,
    ),
    _o(
        "resync-interval",
        300.0,
        "Full relist period that catches missed watches (jittered).",
        "zookeeper",
        parse=parse_duration,
    ),
    # Catalog and mesh model
    _o(
        "owner",
        "default",
        "Value of the dubbomesh.io/registry ownership label: agents sharing a "
        "namespace each manage only their own objects.",
        "mesh",
    ),
    _o(
        "namespace",
        "",
        "Namespace of every published object (default: the pod's namespace, else 'default').",
        "mesh",
    ),
    _o(
        "endpoint-mode",
        "inline",
        "inline: endpoints inside ServiceEntries; workloadentry: "
        "WorkloadEntries selected by ServiceEntries.",
        "mesh",
        choices=("inline", "workloadentry"),
    ),
    _o(
        "host-template",
        "",
        "ServiceEntry host template (see docs/mesh-model.md; empty = the documented default).",
        "mesh",
    ),
    _o(
        "workload-host-template",
        "",
        "Host template of per-workload entries (empty = {address}.{application}.workload.dubbo).",
        "mesh",
    ),
    _o(
        "address-strategy",
        "workload",
        "How traffic dialled to provider IP:port is captured without port conflicts: workload "
        "(per-workload entries with the provider IP as address carry every real port, TCP and "
        "gRPC/HTTP), workload+vip (also a virtual IP per interface-level entry), l7-only (no "
        "per-workload entries, no TCP ports). See docs/mesh-model.md.",
        "mesh",
        choices=("workload", "workload+vip", "l7-only"),
    ),
    _o(
        "registry-suffix",
        False,
        "One entry per (service, registry) with the registry in the host, for registries that "
        "reuse interface names for different services.",
        "mesh",
        parse=parse_bool,
    ),
    _o(
        "port",
        [],
        "Service port number per Dubbo protocol as PROTOCOL=PORT (e.g. tri=50051); repeatable; "
        "overrides the documented defaults.",
        "mesh",
        many=True,
        metavar="PROTOCOL=PORT",
    ),
    _o(
        "label-param",
        [],
        "Allowlist entry PARAM=LABEL_KEY copying a Dubbo URL param to an endpoint label; "
        "repeatable; replaces the default allowlist (application, group, version, dubbo.tag, "
        "release). timestamp, pid and reserved prefixes are always refused.",
        "mesh",
        many=True,
        metavar="PARAM=LABEL",
    ),
    _o("export-to", [], "ServiceEntry exportTo (e.g. '.' or '*'); repeatable.", "mesh", many=True),
    _o(
        "aeraki",
        False,
        "Name dubbo ports tcp-metaprotocol-dubbo for Aeraki's MetaProtocol.",
        "mesh",
        parse=parse_bool,
    ),
    _o(
        "allow-loopback-endpoints",
        False,
        "Keep providers registered on 127.*/localhost (local development, the demo, tests).",
        "mesh",
        parse=parse_bool,
    ),
    _o(
        "debounce",
        0.1,
        "Quiet time before a ZooKeeper burst becomes one catalog version.",
        "mesh",
        parse=parse_duration,
    ),
    _o(
        "debounce-max",
        1.0,
        "Longest a continuous burst may delay a catalog version.",
        "mesh",
        parse=parse_duration,
    ),
    # Sinks
    _o(
        "sink",
        [],
        "Where to publish besides the local xDS stream: file, kubernetes; repeatable.",
        "sinks",
        many=True,
        choices=("file", "kubernetes"),
    ),
    _o("output-dir", "", "Directory of manifests kept current by --sink file.", "sinks"),
    _o(
        "state-file",
        "",
        "Last-known-good catalog (msgpack) for restarts without ZooKeeper; empty = off.",
        "sinks",
    ),
    # xDS
    _o(
        "xds-listen",
        ["127.0.0.1:15910"],
        "xDS (ADS) listen address HOST:PORT; repeatable; 'none' to disable TCP.",
        "xds",
        many=True,
    ),
    _o("xds-uds", "", "Also serve xDS on this unix domain socket path (sidecar mode).", "xds"),
    _o("xds-tls-cert", "", "Server certificate for xDS TLS.", "xds"),
    _o("xds-tls-key", "", "Server key for xDS TLS.", "xds", secret=True),
    _o("xds-tls-client-ca", "", "CA for client certificates (enables mutual TLS).", "xds"),
    _o("xds-max-streams", 1000, "Most concurrent xDS streams.", "xds", parse=int),
    # Kubernetes
    _o("kubeconfig", "", "Kubeconfig path (empty: in-cluster, else ~/.kube/config).", "kubernetes"),
    _o(
        "kube-qps",
        20.0,
        "Client-side API request rate limit (requests/second).",
        "kubernetes",
        parse=float,
    ),
    _o("kube-burst", 40, "Client-side API burst.", "kubernetes", parse=int),
    _o(
        "delete-grace",
        60.0,
        "How long an owned object whose service vanished is kept.",
        "kubernetes",
        parse=parse_duration,
    ),
    _o(
        "leader-elect",
        True,
        "Use a Lease so that only one replica writes.",
        "kubernetes",
        parse=parse_bool,
    ),
    _o("lease-name", "dubbomesh", "Name of the coordination.k8s.io Lease.", "kubernetes"),
    _o(
        "lease-duration",
        15.0,
        "Lease duration (failover time).",
        "kubernetes",
        parse=parse_duration,
    ),
    _o(
        "pod-lookup",
        False,
        "Map provider IPs to pods for WorkloadEntry identity (needs pods get/list RBAC).",
        "kubernetes",
        parse=parse_bool,
    ),
    # Operations
    _o(
        "http-listen",
        "127.0.0.1:9090",
        "Health, metrics and debug HTTP address; 'none' to disable.",
        "operations",
    ),
    _o(
        "log-level",
        "info",
        "Log level.",
        "operations",
        choices=("debug", "info", "warning", "error"),
    ),
    _o("log-format", "text", "Log format.", "operations", choices=("text", "json")),
    _o(
        "shutdown-timeout",
        10.0,
        "Bound on graceful shutdown (drain streams, release the lease, flush state).",
        "operations",
        parse=parse_duration,
    ),
)

BY_NAME = {o.name: o for o in OPTIONS}
