"""The breaking-change check of protos/: removed, renumbered and retyped elements fail it,
additive changes and reserved removals pass."""

import shutil
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from parley.proto_breaking import breaking_changes, last_release, main, protos_at
from parley.proto_descriptors import PROTO_ROOT, compile_protos

EVENTS = Path("parley/v1/events.proto")


@pytest.fixture(scope="module")
def baseline() -> descriptor_pb2.FileDescriptorSet:
    return compile_protos()


def _edited(tmp_path: Path, old: str, new: str) -> descriptor_pb2.FileDescriptorSet:
    root = tmp_path / "protos"
    shutil.copytree(PROTO_ROOT, root)
    source = (root / EVENTS).read_text()
    assert old in source
    (root / EVENTS).write_text(source.replace(old, new, 1))
    return compile_protos(root)


def test_proto_breaking__renumbered_and_retyped_fields_fail(
    tmp_path: Path, baseline: descriptor_pb2.FileDescriptorSet
) -> None:
    edited = _edited(tmp_path, "string client_message_id = 6;", "int64 client_message_id = 8;")
    changes = breaking_changes(baseline, edited)
    assert "field parley.v1.Event.client_message_id (= 6) moved to number 8" in changes


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  bool masked = 11;\n",
            "",
            ["field parley.v1.MessageSent.masked (= 11) removed without reserving it"],
        ),
        (
            "    RoomLeft room_left = 32;\n",
            "",
            ["field parley.v1.Event.room_left (= 32) removed without reserving it"],
        ),
        (
            "  bool masked = 11;\n",
            '  reserved 11;\n  reserved "masked";\n  string added_later = 1000;\n',
            [],
        ),
    ],
    ids=[
        "removed-field-fails",
        "removed-oneof-member-fails",
        "reserved-removal-and-additions-pass",
    ],
)
def test_proto_breaking__edits_of_events_proto(
    tmp_path: Path,
    baseline: descriptor_pb2.FileDescriptorSet,
    old: str,
    new: str,
    expected: list[str],
) -> None:
    assert breaking_changes(baseline, _edited(tmp_path, old, new)) == expected


def test_proto_breaking__committed_protos_against_a_removed_field_fail(tmp_path: Path) -> None:
    committed = protos_at("HEAD")  # what the check reads for a tag: git archive of protos/
    assert breaking_changes(committed, _edited(tmp_path, "  bool masked = 11;\n", ""))


def test_proto_breaking__lint_checks_against_the_committed_release_without_git_tags() -> None:
    """`make lint` runs with no argument: it reads protos/released/, so a fresh or shallow clone
    without tags checks the same as a full one."""
    kept = last_release()
    assert kept is not None and kept[0] == "protos-v1"
    assert breaking_changes(kept[1], compile_protos()) == []
    assert main([]) == 0
