"""Regenerate the committed Python code for ``protos/amadeus/v1/*.proto``.

Run from the repository root::

    python -m instrument_agent.proto.generate          # rewrite instrument_agent/proto/
    python -m instrument_agent.proto.generate --check  # exit 1 if the committed code is stale

``protoc`` emits absolute imports (``from amadeus.v1 import x_pb2``) that only
work when ``amadeus/v1`` is a top-level package; we rewrite them to relative
imports so the generated modules live inside ``instrument_agent.proto`` and
every package imports them from one place. Needs ``grpcio-tools`` (a studio
dependency); the agent only needs the generated files.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

__all__ = ["generate", "main"]

_REPO = Path(__file__).resolve().parents[2]
_PROTO_ROOT = _REPO / "protos"
_PACKAGE_DIR = Path(__file__).resolve().parent
_ABSOLUTE_IMPORT = re.compile(r"^from amadeus\.v1 import (\w+)", re.MULTILINE)


def _proto_files() -> list[Path]:
    return sorted((_PROTO_ROOT / "amadeus" / "v1").glob("*.proto"))


def _has_service(grpc_module_name: str) -> bool:
    proto = _PROTO_ROOT / "amadeus" / "v1" / grpc_module_name.replace("_pb2_grpc.py", ".proto")
    return re.search(r"^service\s", proto.read_text(), re.MULTILINE) is not None


def generate(out_dir: Path) -> list[Path]:
    """Generate ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py`` into ``out_dir``.

    Returns the written files, sorted.
    """
    import grpc_tools
    from grpc_tools import protoc  # studio-side tool, imported only here

    include = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{_PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *[str(p.relative_to(_PROTO_ROOT)) for p in _proto_files()],
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed: {' '.join(args)}")
        written = []
        out_dir.mkdir(parents=True, exist_ok=True)
        for src in sorted((Path(tmp) / "amadeus" / "v1").iterdir()):
            if src.name.endswith("_pb2_grpc.py") and not _has_service(src.name):
                continue  # protoc writes an empty grpc module for message-only files
            text = _ABSOLUTE_IMPORT.sub(r"from . import \1", src.read_text())
            dst = out_dir / src.name
            dst.write_text(text)
            written.append(dst)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args(argv)
    if not args.check:
        for path in generate(_PACKAGE_DIR):
            print(path.relative_to(_REPO))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        stale = [
            p.name
            for p in generate(Path(tmp))
            if not (_PACKAGE_DIR / p.name).exists() or (_PACKAGE_DIR / p.name).read_bytes() != p.read_bytes()
        ]
    if stale:
        print("stale generated files: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
