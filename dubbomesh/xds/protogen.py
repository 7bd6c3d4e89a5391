"""Compile dubbomesh/xds/proto/*.proto into dubbomesh/xds/gen/ (a build step; also run by hand).

Why this module exists: no Istio protobuf package exists on PyPI, so the MCP envelope and the
ServiceEntry/WorkloadEntry messages come from our own small ``.proto`` files. ``setup.py`` loads
this file BY PATH during every build (wheel, sdist install and ``pip install -e .``), before any
of dubbomesh's dependencies are importable, so it must import nothing but the standard library
and ``grpc_tools`` (a build-system requirement). Regenerate by hand with
``python -m dubbomesh.xds.protogen``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_DIR = HERE / "proto"
GEN_DIR = HERE / "gen"


class ProtoCompileError(RuntimeError):
    """protoc failed: the .proto files or the grpcio-tools installation are broken."""


def generate(proto_dir: Path = PROTO_DIR, out_dir: Path = GEN_DIR) -> list[Path]:
    """Run protoc (from grpcio-tools) over every .proto file; return the generated modules."""
    import grpc_tools  # type: ignore[import-untyped]  # noqa: PLC0415 - build-time only
    from grpc_tools import protoc  # noqa: PLC0415

    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    protos = sorted(p.name for p in proto_dir.glob("*.proto"))
    args = [
        "protoc",
        f"-I{proto_dir}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise ProtoCompileError(f"protoc failed: {' '.join(args)}")
    init = out_dir / "__init__.py"
    if not init.exists():
        init.write_text('"""Generated protobuf modules."""\n')
    return [out_dir / (Path(p).stem + "_pb2.py") for p in protos]


if __name__ == "__main__":
    for path in generate():
        print(path)
    sys.exit(0)
