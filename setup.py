"""Build hook: compile dubbomesh's own Istio .proto files before packaging.

Why this file exists: the MCP envelope and ServiceEntry/WorkloadEntry messages are generated code
(dubbomesh/xds/gen/, not committed). Every build path runs ``build_py`` -- wheels, sdists and
``pip install -e .`` (setuptools runs build_py in editable mode too) -- so generating there keeps
the generated modules in step with the .proto files. grpcio-tools is a build-system requirement.
Everything else about the project lives in pyproject.toml.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _compile_protos() -> None:
    path = ROOT / "dubbomesh" / "xds" / "protogen.py"
    spec = importlib.util.spec_from_file_location("_dubbomesh_protogen", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate()


class BuildPyWithProtos(build_py):
    """build_py that first regenerates dubbomesh/xds/gen/*_pb2.py from dubbomesh/xds/proto."""

    def run(self) -> None:
        _compile_protos()
        super().run()


setup(cmdclass={"build_py": BuildPyWithProtos})
