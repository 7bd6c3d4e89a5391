"""A real, throw-away ZooKeeper server for the demo and the integration tests.

Why this module exists: the agent's promises (nothing withdrawn during an outage, convergence
after a session expiry) only mean something against a real server, and both ``dubbomesh demo`` and
the test fixtures need one without any manual setup. Two backends, same API:

- Docker (testcontainers, the official ``zookeeper`` image), chosen when a Docker engine answers;
- the Debian ``zookeeper`` package's server (``java ... QuorumPeerMain <cfg>``), started on a free
  loopback port with a temporary data directory. ``scripts/setup.sh`` installs it.

Both can stop, restart (same port, same data), pause (SIGSTOP / ``docker pause``) and resume, so
fault tests can simulate an outage, a crash-restart and a frozen server. The server is spoken to
only through the four-letter words (``ruok``), so this module needs no ZooKeeper client library.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol

JAVA_DIR = Path("/usr/share/java")
"""Where Debian installs the ZooKeeper server jars and their dependencies."""

CLASSPATH_JARS = (
    "zookeeper.jar",
    "zookeeper-jute.jar",
    "slf4j-api.jar",
    "slf4j-simple.jar",
    "netty.jar",
    "commons-cli.jar",
    "metrics-core.jar",
    "snappy-java.jar",
    "commons-io.jar",
)
"""The jars the 3.8 server needs; ``netty.jar`` is optional (only the NIO factory is used)."""

_OPTIONAL_JARS = frozenset({"netty.jar", "snappy-java.jar", "metrics-core.jar"})
DOCKER_IMAGE = "zookeeper:3.8"


class LocalZooKeeperError(RuntimeError):
    """The local server could not be provided. The message says what to do (usually: run setup)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def four_letter_word(host: str, port: int, word: str, timeout: float = 1.0) -> str:
    """Send a ZooKeeper four-letter command and return the answer ("" when nobody answers)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(word.encode())
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


def docker_available(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping (then testcontainers can be used)."""
    try:
        import docker  # type: ignore[import-untyped]  # noqa: PLC0415 - test extra only

        client = docker.from_env(timeout=int(max(1, timeout)))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure means "no engine here"
        return False


class _Backend(Protocol):
    port: int

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def close(self) -> None: ...
    def log_tail(self) -> str: ...


def _all_threads_stopped(pid: int) -> bool:
    """Every task of ``pid`` is stopped (state ``T``/``t`` in ``/proc/<pid>/task/*/stat``)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True  # gone: nothing answers either
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                state = f.read().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue  # the thread ended meanwhile
        if state not in ("T", "t"):
            return False
    return True


class _DebianBackend:
    """``QuorumPeerMain`` from the Debian package, standalone, one process."""

    def __init__(
        self, port: int, data_dir: Path, jvm_flags: Sequence[str], config: Mapping[str, str]
    ):
        java = shutil.which("java")
        missing = [
            j for j in CLASSPATH_JARS if not (JAVA_DIR / j).exists() and j not in _OPTIONAL_JARS
        ]
        if java is None or missing:
            what = "java" if java is None else ", ".join(str(JAVA_DIR / m) for m in missing)
            raise LocalZooKeeperError(
                f"cannot start a local ZooKeeper: {what} not found and no Docker engine is "
                "reachable; run scripts/setup.sh (installs Debian's zookeeper package)"
            )
        self.port = port
        self._java = java
        self._dir = data_dir
        self._jvm_flags = list(jvm_flags)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = data_dir / "server.log"
        cfg = {
            "tickTime": "500",
            "initLimit": "10",
            "syncLimit": "5",
            "minSessionTimeout": "1000",
            "maxSessionTimeout": "60000",
            "dataDir": str(data_dir / "data"),
            "clientPort": str(port),
            "clientPortAddress": "127.0.0.1",
            "maxClientCnxns": "0",
            "admin.enableServer": "false",
            "4lw.commands.whitelist": "*",
            "forceSync": "no",
            "snapCount": "1000000",
            **config,
        }
        (data_dir / "data").mkdir(parents=True, exist_ok=True)
        self._cfg = data_dir / "zoo.cfg"
        self._cfg.write_text("".join(f"{k}={v}\n" for k, v in cfg.items()))

    def start(self) -> None:
        jars = [str(JAVA_DIR / j) for j in CLASSPATH_JARS if (JAVA_DIR / j).exists()]
        cmd = [
            self._java,
            "-Xms64m",
            "-Xmx1g",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dzookeeper.admin.enableServer=false",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            *self._jvm_flags,
            "-cp",
            ":".join(jars),
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            str(self._cfg),
        ]
        log = self._log.open("ab")
        try:
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        finally:
            log.close()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)  # a paused JVM cannot handle SIGTERM
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is None or self._proc.poll() is not None:
            raise LocalZooKeeperError("the local ZooKeeper is not running")
        os.kill(self._proc.pid, sig)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)
        # SIGSTOP is delivered asynchronously: a thread may still answer for a moment. Return
        # only once every thread of the JVM is stopped, so callers see a frozen server.
        assert self._proc is not None
        deadline = time.monotonic() + 10
        while not _all_threads_stopped(self._proc.pid):
            if time.monotonic() > deadline:
                raise LocalZooKeeperError("the local ZooKeeper did not stop on SIGSTOP")
            time.sleep(0.005)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def close(self) -> None:
        self.stop()

    def log_tail(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


class _DockerBackend:
    """The official image through testcontainers, published on a fixed loopback port."""

    def __init__(self, port: int, jvm_flags: Sequence[str]):
        from testcontainers.core.container import DockerContainer  # noqa: PLC0415

        self.port = port
        self._container = (
            DockerContainer(DOCKER_IMAGE)
            .with_bind_ports(2181, ("127.0.0.1", port))  # type: ignore[arg-type]  # docker-py form
            .with_env("ZOO_4LW_COMMANDS_WHITELIST", "*")
            .with_env("ZOO_TICK_TIME", "500")
            .with_env("ZOO_MAX_CLIENT_CNXNS", "0")
            .with_env("ZOO_ADMINSERVER_ENABLED", "false")
            .with_env("SERVER_JVMFLAGS", " ".join(jvm_flags))
        )
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._container.start()
            self._started = True
        else:
            self._container.get_wrapped_container().start()

    def stop(self) -> None:
        if self._started:
            self._container.get_wrapped_container().stop(timeout=5)

    def pause(self) -> None:
        self._container.get_wrapped_container().pause()

    def resume(self) -> None:
        self._container.get_wrapped_container().unpause()

    def close(self) -> None:
        if self._started:
            self._container.stop()
            self._started = False

    def log_tail(self) -> str:
        try:
            out, err = self._container.get_logs()
            return (out + err).decode(errors="replace")[-4000:]
        except Exception:
            return ""


class LocalZooKeeper:
    """A standalone ZooKeeper on 127.0.0.1 for the demo and tests; use as a context manager.

    ``backend`` is ``"auto"`` (Docker when an engine answers, else Debian), ``"docker"`` or
    ``"debian"``. ``jvm_flags`` are passed to the server JVM (e.g. ``-Djute.maxbuffer=4096``);
    ``config`` adds or overrides ``zoo.cfg`` keys (Debian backend only).
    """

    def __init__(
        self,
        *,
        backend: str = "auto",
        port: int | None = None,
        jvm_flags: Sequence[str] = (),
        config: Mapping[str, str] | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="dubbomesh-zk-"))
        self._start_timeout = start_timeout
        chosen = backend
        if backend == "auto":
            chosen = "docker" if docker_available() else "debian"
        self.backend_name = chosen
        p = port or free_port()
        self._backend: _Backend
        if chosen == "docker":
            self._backend = _DockerBackend(p, jvm_flags)
        elif chosen == "debian":
            self._backend = _DebianBackend(p, self._tmp, jvm_flags, config or {})
        else:
            raise LocalZooKeeperError(f"unknown backend {backend!r}: use auto, docker or debian")
        self.paused = False
        self.running = False

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._backend.port

    @property
    def connect_string(self) -> str:
        """``host:port`` for a client (kazoo ``hosts=``)."""
        return f"{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        """The temporary directory holding config, data and the server log (Debian backend)."""
        return self._tmp

    def start(self) -> LocalZooKeeper:
        """Start the server and wait until it answers ``ruok`` with ``imok``."""
        self._backend.start()
        self.running, self.paused = True, False
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        """Poll ``ruok`` until the server serves clients, or raise with the log tail."""
        deadline = time.monotonic() + (timeout or self._start_timeout)
        while time.monotonic() < deadline:
            if four_letter_word(self.host, self.port, "ruok") == "imok" and self._serving():
                return
            time.sleep(0.05)
        raise LocalZooKeeperError(
            f"ZooKeeper on {self.connect_string} did not become ready:\n{self._backend.log_tail()}"
        )

    def _serving(self) -> bool:
        # ``ruok`` answers as soon as the port is open; ``srvr`` says when requests are served.
        return "Mode:" in four_letter_word(self.host, self.port, "srvr")

    def stop(self) -> None:
        """Stop the server (data kept): clients see a connection loss."""
        self._backend.stop()
        self.running, self.paused = False, False

    def restart(self) -> None:
        """Stop then start again on the same port with the same data."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but nothing answers."""
        self._backend.pause()
        self.paused = True

    def resume(self) -> None:
        """Unfreeze a paused server (SIGCONT)."""
        self._backend.resume()
        self.paused = False

    def close(self) -> None:
        """Stop the server and delete its temporary directory."""
        try:
            self._backend.close()
        finally:
            self.running = False
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> LocalZooKeeper:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
