"""A REAL Prometheus server (Debian's build, unpacked by scripts/setup-ci-extras.sh) for the
dashboard test, and promtool's metrics linter.

Why this module exists: the honest way to know that every dashboard panel shows data is to let a
real Prometheus scrape a real agent and answer each panel's PromQL through its HTTP API, as Grafana
does. A hand-written PromQL evaluator would only test itself.
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.charts.tools import tool


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def poll(predicate: Any, *, timeout: float, what: str) -> Any:
    """Poll ``predicate`` until truthy; fail at the deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)  # polling interval


class Prometheus:
    """One Prometheus process scraping ``targets`` every second, with its HTTP API."""

    def __init__(self, workdir: Path, job: str, targets: list[str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": targets}]}],
        }
        self.config = workdir / "prometheus.yml"
        self.config.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        self.log = workdir / "prometheus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Prometheus:
        self.proc = subprocess.Popen(
            [
                str(tool("prometheus")),
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        poll(self._ready, timeout=60, what="prometheus /-/ready")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; returns ``data``, raises on an error status (bad PromQL)."""
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as r:
                body = json.loads(r.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read())
        if body.get("status") != "success":
            raise AssertionError(f"prometheus {path} {params}: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        return list(self.api("query", query=expr)["result"])

    def query_range(self, expr: str, seconds: float) -> list[dict[str, Any]]:
        """A range query over the last ``seconds`` at a 1s step (what a Grafana panel sends)."""
        end = time.time()
        data = self.api(
            "query_range", query=expr, start=f"{end - seconds:.3f}", end=f"{end:.3f}", step="1"
        )
        return list(data["result"])

    def label_values(self, label: str, match: str) -> list[str]:
        """Grafana's ``label_values(match, label)``."""
        return list(self.api(f"label/{label}/values", **{"match[]": match}))


def has_numbers(series: list[dict[str, Any]]) -> bool:
    """Whether a range result holds at least one real (non-NaN) sample."""
    for s in series:
        for _, value in s.get("values", []):
            if not math.isnan(float(value)):
                return True
    return False


def promtool_check_metrics(exposition: bytes) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` on a text exposition (lints names, units, HELP)."""
    return subprocess.run(
        [str(tool("promtool")), "check", "metrics"],
        input=exposition.decode(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
