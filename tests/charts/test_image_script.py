"""The container image's contents, built without a Docker engine.

The Dockerfile runs scripts/build-image-rootfs.sh; this test runs the same script on the same
build context (assembled from .dockerignore), so it proves the wheels build from the context alone,
install from wheels only into a fresh venv, and that the installed agent starts and answers
/healthz.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.charts.dockerignore import assemble, excluded, parse

ROOT = Path(__file__).resolve().parents[2]


def test_dockerignore_rules_follow_docker_semantics() -> None:
    rules = parse("*\n!dubbomesh/\n!setup.py\ndubbomesh/**/__pycache__\n")
    assert excluded("tests/charts/test_x.py", rules)
    assert excluded(".git/config", rules)
    assert not excluded("setup.py", rules)
    assert not excluded("dubbomesh/agent/app.py", rules)
    assert excluded("dubbomesh/agent/__pycache__/app.cpython-311.pyc", rules)


def test_dockerfile_runs_the_script_in_two_stages_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", text, re.MULTILINE)
    assert stages == ["wheels", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert "build-image-rootfs.sh wheels" in text.split("AS runtime", 1)[0]
    assert "build-image-rootfs.sh install" in runtime
    assert "build-image-rootfs.sh check" in runtime
    user = re.findall(r"^USER\s+(\S+)", runtime, re.MULTILINE)
    assert user
    assert user[-1].split(":")[0] not in ("0", "root")
    for label in ("title", "version", "source", "licenses"):
        assert f"org.opencontainers.image.{label}" in runtime
    # The runtime stage never installs a toolchain.
    assert not re.search(r"apt-get install|build-essential|gcc", runtime)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_image_contents_build_install_and_start(tmp_path: Path) -> None:
    context = tmp_path / "context"
    files = assemble(ROOT, context)
    assert "setup.py" in files
    assert "scripts/build-image-rootfs.sh" in files
    assert not any(f.startswith(("tests/", ".venv/", ".git/", "charts/")) for f in files)
    prefix = tmp_path / "opt" / "dubbomesh"
    proc = subprocess.run(
        ["bash", str(context / "scripts/build-image-rootfs.sh"), "all", str(context), str(prefix)],
        capture_output=True,
        text=True,
        timeout=840,
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(Path.home()),
            "PYTHON": sys.executable,
        },
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "check passed" in proc.stderr
    assert "200 ok" in proc.stdout
    assert not (prefix / "bin" / "pip").exists()
    assert (prefix / "bin" / "dubbomesh").exists()
