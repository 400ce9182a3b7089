"""The protos compiled to a FileDescriptorSet (with comments), for the event doc and the
breaking-change check; needs grpcio-tools (a dev dependency)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2

PROTO_ROOT = Path(__file__).resolve().parents[1] / "protos"


class ProtoCompileError(RuntimeError):
    """protoc refused the sources; the message is protoc's."""


def compile_protos(root: Path = PROTO_ROOT) -> descriptor_pb2.FileDescriptorSet:
    """Every .proto under `root`, imports resolved against `root` and protoc's own includes."""
    import grpc_tools
    from grpc_tools import protoc

    sources = sorted(str(path.relative_to(root)) for path in root.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "set.pb"
        code = protoc.main(
            [
                "protoc",
                f"-I{root}",
                f"-I{well_known}",
                "--include_source_info",
                f"--descriptor_set_out={out}",
                *sources,
            ]
        )
        if code != 0:
            raise ProtoCompileError(f"protoc failed on {root} (exit {code})")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def comments(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    """Leading (else trailing) comment of each element, by its source path."""
    found: dict[tuple[int, ...], str] = {}
    for location in file.source_code_info.location:
        text = location.leading_comments or location.trailing_comments
        if text.strip():
            found[tuple(location.path)] = " ".join(text.split())
    return found
