"""Reading `java -version` output, and the error a wrong Java produces."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.local.errors import InfraError
from infra.local.java import parse_major_version, require_java


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "25" 2025-09-16\nOpenJDK 64-Bit Server VM Temurin-25+36', 25),
        ('openjdk version "21.0.4" 2024-07-16 LTS', 21),
        ('java version "1.8.0_392"\nJava(TM) SE Runtime Environment', 8),
        ('openjdk version "17-ea" 2021-03-16', 17),
    ],
)
def test_parse_major_version__reads_modern_and_legacy_formats(output: str, major: int) -> None:
    assert parse_major_version(output) == major


def test_parse_major_version__rejects_output_without_a_version() -> None:
    with pytest.raises(ValueError, match="no version string"):
        parse_major_version("bash: java: command not found")


def test_require_java__names_the_wrong_version_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\necho 'openjdk version \"25\" 2025-09-16' >&2\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PARLEY_JAVA", str(fake))
    with pytest.raises(InfraError) as raised:
        require_java(17)
    assert f"{fake}: Java 25" in raised.value.render()
    assert "PARLEY_JAVA" in raised.value.fix


def test_require_java__reports_a_missing_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_JAVA", str(tmp_path / "nowhere" / "java"))
    with pytest.raises(InfraError, match="no Java 17 found"):
        require_java(17)
