"""Real peer processes for the conformance tests: Apache Dubbo providers, istiod, the agent.

Why this module exists: the conformance suite replaces our own test clients with the programs users
run. Each peer is built once by ``scripts/build-peers.sh`` into a cache outside the repository; this
module finds the builds, starts them as subprocesses on free loopback ports, waits for them with a
deadline (never a fixed sleep) and stops them. A peer that is not built makes its tests skip with
the reason (including the exact error for a peer the registries could not provide); nothing here
substitutes a stand-in.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubbomesh.agent.localzk import free_port

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("DUBBOMESH_CACHE", str(Path.home() / ".cache" / "dubbomesh")))
PEERS = CACHE / "peers"
LOG_DIR = Path(os.environ.get("DUBBOMESH_CONFORMANCE_LOGS", "/tmp/dubbomesh-conformance"))

# Dubbo refuses 127.* for DUBBO_IP_TO_REGISTRY/DUBBO_IP_TO_BIND ("Specified invalid registry ip"),
# and otherwise registers the first non-loopback interface. Ignoring every non-loopback interface
# makes it fall back to 127.0.0.1, which is what this loopback-only machine needs.
JVM_FLAGS = ("-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto")


class PeerUnavailable(Exception):
    """The peer is not built (or the registries could not provide it): the reason says which."""


def build_info(name: str) -> dict[str, str]:
    """The peer's BUILD-INFO as a dict, or raise PeerUnavailable with how to build it."""
    out = PEERS / name
    blocked = out / "BLOCKED"
    if blocked.exists():
        lines = [ln.strip() for ln in blocked.read_text().splitlines() if ln.strip()]
        detail = " | ".join(ln for ln in lines if ln.startswith(("step:", "command:", '"Error"')))
        raise PeerUnavailable(f"peer {name} BLOCKED ({detail or lines[-1]}); see {blocked}")
    info = out / "BUILD-INFO"
    if not info.exists():
        raise PeerUnavailable(f"peer {name} not built: run `make peers` (scripts/build-peers.sh)")
    pairs = (line.split("=", 1) for line in info.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def wait_until(
    predicate: Callable[[], Any], timeout: float, what: str, *, interval: float = 0.1
) -> Any:
    """Poll ``predicate`` until it returns something truthy; raise TimeoutError with ``what``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # a peer still starting answers with errors
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last_error})")


def non_loopback_interfaces() -> list[str]:
    """Names of network interfaces other than ``lo`` (for Dubbo's ignore list)."""
    try:
        names = sorted(os.listdir("/sys/class/net"))
    except OSError:
        return []
    return [n for n in names if n != "lo"]


def http_get(url: str, timeout: float = 5.0) -> bytes:
    """GET ``url`` (loopback debug endpoints) and return the body."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body


@dataclass
class Process:
    """A started subprocess whose output goes to a log file under LOG_DIR."""

    name: str
    argv: Sequence[str]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{self.name}-{os.getpid()}-{time.monotonic_ns()}.log"

    def start(self) -> Process:
        log = self.log_path.open("ab")
        env = self.env
        if env is not None and "DUBBOMESH_CI_RUN" in os.environ:  # .ci/run's mark for leftovers
            env = {**env, "DUBBOMESH_CI_RUN": os.environ["DUBBOMESH_CI_RUN"]}
        self.proc = subprocess.Popen(
            list(self.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.cwd,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, marker: str, timeout: float) -> None:
        def seen() -> bool:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            return marker in self.log_text()

        try:
            wait_until(seen, timeout, f"{self.name} to print {marker!r}", interval=0.2)
        except (TimeoutError, RuntimeError) as exc:
            raise AssertionError(f"{exc}\n--- {self.name} log tail ---\n{self.log_tail()}") from exc

    def kill(self) -> None:
        """SIGKILL: no goodbye (a crashed provider leaves its ephemeral nodes to session expiry)."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        if not self.alive:
            return
        self._signal(signal.SIGTERM)
        assert self.proc is not None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            if sig == signal.SIGKILL:
                self.proc.wait(10)


@dataclass
class DubboProvider:
    """One real Apache Dubbo provider JVM (peer ``dubbo33`` or ``dubbo27``)."""

    peer: str
    zk: str
    app: str
    args: dict[str, str]
    main: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    process: Process | None = None

    def command(self) -> list[str]:
        build_info(self.peer)
        home = PEERS / self.peer
        main = (
            self.main
            or {
                "dubbo33": "org.dubbomesh.peer.Provider33",
                "dubbo27": "org.dubbomesh.peer.Provider27",
            }[self.peer]
        )
        ignored = ",".join(non_loopback_interfaces())
        jvm = [*JVM_FLAGS, "--add-opens", "java.base/java.lang=ALL-UNNAMED"]
        if ignored:
            jvm.append(f"-Ddubbo.network.interface.ignored={ignored}")
        argv = ["java", *jvm, "-cp", f"{home / 'app.jar'}:{home / 'lib'}/*", main]
        argv += ["--zk", self.zk, "--app", self.app, "--host", "127.0.0.1"]
        for key, value in self.args.items():
            argv += [f"--{key}", value]
        return argv

    def start(self, timeout: float = 120.0) -> DubboProvider:
        self.process = Process(f"{self.peer}-{self.app}", self.command()).start()
        self.process.wait_for_log("DUBBOMESH-PEER READY", timeout)
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def dubbo33_provider(zk: str, app: str, **extra: str) -> DubboProvider:
    """A Dubbo 3.3 provider on fresh ports: dubbo EchoService + tri Greeter (IDL)."""
    ports = {"dubbo": free_port(), "tri": free_port()}
    args = {"dubbo-port": str(ports["dubbo"]), "tri-port": str(ports["tri"]), **extra}
    return DubboProvider("dubbo33", zk, app, args, ports=ports)


def dubbo27_provider(zk: str, app: str, **extra: str) -> DubboProvider:
    """A Dubbo 2.7 provider on a fresh port: dubbo EchoService."""
    ports = {"dubbo": free_port()}
    args = {"dubbo-port": str(ports["dubbo"]), **extra}
    return DubboProvider("dubbo27", zk, app, args, ports=ports)


@dataclass
class Agent:
    """``dubbomesh run`` as a subprocess (the program users run), on free loopback ports."""

    zk: str
    namespace: str = "dubbo"
    extra: Sequence[str] = ()
    root: str = "/dubbo"
    xds_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def xds_address(self) -> str:
        return f"127.0.0.1:{self.xds_port}"

    def start(self, timeout: float = 60.0) -> Agent:
        argv = [
            sys.executable, "-m", "dubbomesh", "run",
            "--zk", self.zk, "--root", self.root, "--namespace", self.namespace,
            "--xds-listen", self.xds_address, "--allow-loopback-endpoints",
            "--http-listen", f"127.0.0.1:{self.http_port}", "--debounce", "0.05",
            *self.extra,
        ]  # fmt: skip
        self.process = Process("agent", argv, cwd=REPO).start()
        wait_until(self._healthy, timeout, "the agent's /healthz")
        return self

    def _healthy(self) -> bool:
        if self.process is not None and not self.process.alive:
            raise AssertionError(f"agent exited:\n{self.process.log_tail()}")
        http_get(f"http://127.0.0.1:{self.http_port}/healthz")
        return True

    def debug(self, what: str) -> Any:
        return json.loads(http_get(f"http://127.0.0.1:{self.http_port}/debug/{what}"))

    def catalog(self) -> dict[str, Any]:
        """``/debug/catalog`` keyed by service key."""
        data = self.debug("catalog")
        return {s["service_key"]: s for s in data["services"]}

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def endpoint_set(service: dict[str, Any]) -> set[tuple[str, str, int, int]]:
    """(protocol, address, port, weight) of a /debug/catalog service."""
    return {(e["protocol"], e["address"], e["port"], e["weight"]) for e in service["endpoints"]}


def wait_for_catalog(
    agent: Agent, predicate: Callable[[dict[str, Any]], bool], what: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll the agent's catalog until ``predicate`` holds; return that catalog."""
    seen: list[dict[str, Any]] = []

    def check() -> dict[str, Any] | None:
        catalog = agent.catalog()
        seen[:] = [catalog]
        return catalog if predicate(catalog) else None

    try:
        result: dict[str, Any] = wait_until(check, timeout, what, interval=0.2)
    except TimeoutError as exc:
        last = json.dumps(seen[0] if seen else None, indent=1, sort_keys=True)[:4000]
        raise AssertionError(f"{exc}\nlast catalog: {last}") from exc
    return result
