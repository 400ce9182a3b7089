"""Migration discovery, ordering, statement splitting and checksum refusal; no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local.migrations import Migration, MigrationError, discover, pending


def _write(directory: Path, name: str, text: str = "CREATE TABLE t (k int PRIMARY KEY);\n") -> None:
    (directory / name).write_text(text)


def test_discover__orders_by_version_not_by_listing(tmp_path: Path) -> None:
    _write(tmp_path, "0010_tenth.cql")
    _write(tmp_path, "0002_second.cql")
    _write(tmp_path, "0001_first.cql")
    assert [(m.version, m.name) for m in discover(tmp_path)] == [
        (1, "first"),
        (2, "second"),
        (10, "tenth"),
    ]


@pytest.mark.parametrize("name", ["1_short.cql", "0001-dash.cql", "0001_Upper.cql"])
def test_discover__rejects_misnamed_files(tmp_path: Path, name: str) -> None:
    _write(tmp_path, name)
    with pytest.raises(MigrationError, match="name must look like"):
        discover(tmp_path)


def test_discover__rejects_duplicate_versions(tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.cql")
    _write(tmp_path, "0001_b.cql")
    with pytest.raises(MigrationError, match="two migrations with version 0001"):
        discover(tmp_path)


def test_discover__the_repository_migrations_start_at_0001() -> None:
    assert discover()[0].version == 1
    assert "projection_positions" in discover()[0].statements()[0]


def test_statements__split_on_semicolons_and_drop_comment_lines() -> None:
    text = "-- header; with a semicolon;\nCREATE TABLE a (k int PRIMARY KEY);\n\n" \
        "// another comment\nCREATE TABLE b (\n  k int PRIMARY KEY -- inline\n);\n"  # fmt: skip
    statements = Migration(1, "x", text).statements()
    assert statements == [
        "CREATE TABLE a (k int PRIMARY KEY)",
        "CREATE TABLE b (\n  k int PRIMARY KEY -- inline\n)",
    ]


def test_pending__skips_applied_and_keeps_order() -> None:
    one, two, three = (Migration(v, f"m{v}", f"text {v}") for v in (1, 2, 3))
    assert pending([one, two, three], {1: one.checksum}) == [two, three]
    assert pending([one, two, three], {}) == [one, two, three]


def test_pending__refuses_a_file_edited_after_it_was_applied() -> None:
    one = Migration(1, "m1", "edited text")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        pending([one], {1: Migration(1, "m1", "original").checksum})


def test_pending__refuses_when_an_applied_file_is_gone() -> None:
    with pytest.raises(MigrationError, match="applied but its file is gone"):
        pending([], {7: "abc"})
