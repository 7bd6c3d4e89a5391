"""Where the chart tests find helm, prometheus and promtool, and how they render the chart.

Why this module exists: the tools are not Python packages; scripts/build-tools.sh puts them in
the dubbomesh tool cache (helm built from the Go module proxy, Prometheus unpacked from Debian's
package). A missing tool FAILS the tests that need it, naming the script to run: a chart that was
never rendered must not pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "dubbomesh"
CACHE = Path(os.environ.get("DUBBOMESH_CACHE", Path.home() / ".cache" / "dubbomesh"))


def tool(name: str) -> Path:
    """The path of ``name`` (helm, prometheus, promtool): the cache first, then PATH."""
    for candidate in (CACHE / "bin" / name, CACHE / "prometheus" / "bin" / name):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    pytest.fail(f"{name} not found in {CACHE}: run scripts/build-tools.sh", pytrace=False)


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm with a private home (no repositories, no plugins, no cluster access)."""
    home = CACHE / "helm-home"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "KUBECONFIG": str(home / "no-cluster"),
    }
    proc = subprocess.run(
        [str(tool("helm")), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def render(
    values: dict[str, Any] | None = None,
    *,
    tmp_path: Path,
    release: str = "dubbomesh",
    namespace: str = "dubbo-mesh",
    chart: Path = CHART,
) -> list[dict[str, Any]]:
    """``helm template`` with ``values`` (a file), parsed into the list of manifests."""
    args = ["template", release, str(chart), "--namespace", namespace]
    if values:
        vfile = tmp_path / f"values-{len(list(tmp_path.glob('values-*')))}.yaml"
        vfile.write_text(yaml.safe_dump(values), encoding="utf-8")
        args += ["-f", str(vfile)]
    out = helm(*args).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def render_error(values: dict[str, Any], *, tmp_path: Path) -> str:
    """The error text of a ``helm template`` that must fail."""
    vfile = tmp_path / "bad-values.yaml"
    vfile.write_text(yaml.safe_dump(values), encoding="utf-8")
    proc = helm("template", "dubbomesh", str(CHART), "-f", str(vfile), check=False)
    assert proc.returncode != 0, f"helm template accepted {values}"
    return proc.stderr


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The manifests of one kind."""
    return [d for d in docs if d.get("kind") == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The single manifest of ``kind``."""
    found = by_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {[d['metadata']['name'] for d in found]}"
    return found[0]
