"""Breaking-change check of protos/ against the last released version (run by `make lint`).

Each release of the API is kept as its compiled FileDescriptorSet in protos/released/NAME.binpb
(`python -m parley.proto_breaking --release protos-vN`, committed beside the tag of the same
name), so the check needs no git history or tags: a fresh or shallow clone checks the same.

Compares the two FileDescriptorSets: a message, enum, service or RPC removed; a field or enum
value removed without reserving its number and name, renamed, or given another number; a field's
type, label or oneof changed; an RPC's types or streaming changed. `python -m parley.proto_breaking
[--against REF]` prints each change and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from google.protobuf import descriptor_pb2 as d

from parley.proto_descriptors import PROTO_ROOT, compile_protos

TAG_PATTERN = "protos-v*"
REPO = PROTO_ROOT.parent
RELEASED = PROTO_ROOT / "released"

Messages = dict[str, d.DescriptorProto]
Enums = dict[str, d.EnumDescriptorProto]


def _index(
    files: d.FileDescriptorSet,
) -> tuple[Messages, Enums, dict[str, d.ServiceDescriptorProto]]:
    messages: Messages = {}
    enums: Enums = {}
    services = {}

    def add(prefix: str, message: d.DescriptorProto) -> None:
        name = f"{prefix}.{message.name}"
        messages[name] = message
        for nested in message.nested_type:
            add(name, nested)
        for enum in message.enum_type:
            enums[f"{name}.{enum.name}"] = enum

    for file in files.file:
        for message in file.message_type:
            add(file.package, message)
        for enum in file.enum_type:
            enums[f"{file.package}.{enum.name}"] = enum
        for service in file.service:
            services[f"{file.package}.{service.name}"] = service
    return messages, enums, services


def _is_reserved(
    number: int,
    name: str,
    ranges: list[tuple[int, int]],
    names: list[str],
    end_inclusive: bool,
) -> bool:
    top = 1 if end_inclusive else 0
    return name in names and any(start <= number < end + top for start, end in ranges)


def _field_changes(name: str, old: d.DescriptorProto, new: d.DescriptorProto) -> list[str]:
    changes = []
    now = {field.number: field for field in new.field}
    reserved = [(r.start, r.end) for r in new.reserved_range]
    for field in old.field:
        where = f"{name}.{field.name} (= {field.number})"
        after = now.get(field.number)
        if after is None:
            if not _is_reserved(field.number, field.name, reserved, list(new.reserved_name), False):
                moved = next((f.number for f in new.field if f.name == field.name), None)
                why = f"moved to number {moved}" if moved else "removed without reserving it"
                changes.append(f"field {where} {why}")
            continue
        if after.name != field.name:
            changes.append(f"field {where} renamed to {after.name} (number reused)")
        if (after.type, after.type_name) != (field.type, field.type_name):
            changes.append(f"field {where} changed type")
        if after.label != field.label:
            changes.append(f"field {where} changed label (repeated/optional)")
        old_oneof = old.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else ""
        new_oneof = new.oneof_decl[after.oneof_index].name if after.HasField("oneof_index") else ""
        if old_oneof != new_oneof:
            changes.append(f"field {where} moved from oneof '{old_oneof}' to '{new_oneof}'")
    return changes


def _enum_changes(name: str, old: d.EnumDescriptorProto, new: d.EnumDescriptorProto) -> list[str]:
    changes = []
    now = {value.number: value for value in new.value}
    reserved = [(r.start, r.end) for r in new.reserved_range]
    for value in old.value:
        after = now.get(value.number)
        if after is None:
            if not _is_reserved(value.number, value.name, reserved, list(new.reserved_name), True):
                changes.append(f"enum value {name}.{value.name} (= {value.number}) removed")
        elif after.name != value.name:
            changes.append(f"enum value {name}.{value.name} (= {value.number}) renamed")
    return changes


def _rpc_changes(
    name: str, old: d.ServiceDescriptorProto, new: d.ServiceDescriptorProto
) -> list[str]:
    changes = []
    now = {method.name: method for method in new.method}
    for method in old.method:
        after = now.get(method.name)
        where = f"rpc {name}.{method.name}"
        if after is None:
            changes.append(f"{where} removed")
            continue
        if (after.input_type, after.output_type) != (method.input_type, method.output_type):
            changes.append(f"{where} changed its request or response type")
        if (after.client_streaming, after.server_streaming) != (
            method.client_streaming,
            method.server_streaming,
        ):
            changes.append(f"{where} changed streaming")
    return changes


def breaking_changes(old: d.FileDescriptorSet, new: d.FileDescriptorSet) -> list[str]:
    """What in `new` breaks a reader or client written against `old` (empty: compatible)."""
    old_messages, old_enums, old_services = _index(old)
    new_messages, new_enums, new_services = _index(new)
    changes: list[str] = []
    for name, message in old_messages.items():
        if name not in new_messages:
            changes.append(f"message {name} removed")
        else:
            changes += _field_changes(name, message, new_messages[name])
    for name, enum in old_enums.items():
        if name not in new_enums:
            changes.append(f"enum {name} removed")
        else:
            changes += _enum_changes(name, enum, new_enums[name])
    for name, service in old_services.items():
        if name not in new_services:
            changes.append(f"service {name} removed")
        else:
            changes += _rpc_changes(name, service, new_services[name])
    return changes


def protos_at(ref: str) -> d.FileDescriptorSet:
    """protos/ as committed at `ref`, compiled."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "protos"], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(scratch, filter="data")
        return compile_protos(Path(scratch) / "protos")


def last_release() -> tuple[str, d.FileDescriptorSet] | None:
    """The newest released version kept in protos/released/ (names sort by their number)."""
    found = sorted(RELEASED.glob("*.binpb"), key=lambda p: int("0" + p.stem.rpartition("v")[2]))
    if not found:
        return None
    return found[-1].stem, d.FileDescriptorSet.FromString(found[-1].read_bytes())


def release(name: str) -> Path:
    """Keeps the current protos/ as release `name` (tag the commit with the same name)."""
    RELEASED.mkdir(exist_ok=True)
    path = RELEASED / f"{name}.binpb"
    path.write_bytes(compile_protos().SerializeToString(deterministic=True))
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m parley.proto_breaking", description=__doc__)
    parser.add_argument(
        "--against", help="a git ref (default: the last release in protos/released)"
    )
    parser.add_argument("--release", metavar="NAME", help="keep protos/ as release NAME and exit")
    args = parser.parse_args(argv)
    if args.release:
        print(f"released {release(args.release)}")
        return 0
    if args.against:
        ref, old = args.against, protos_at(args.against)
    else:
        kept = last_release()
        if kept is None:
            print(f"no release in {RELEASED}: run --release {TAG_PATTERN[:-1]}1", file=sys.stderr)
            return 1
        ref, old = kept
    changes = breaking_changes(old, compile_protos())
    for change in changes:
        print(f"breaking change against {ref}: {change}", file=sys.stderr)
    if changes:
        print("keep changes additive (docs/events.md, compatibility rules)", file=sys.stderr)
        return 1
    print(f"protos/ is compatible with {ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
