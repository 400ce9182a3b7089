"""Find the Java 17 binary explicitly (never trust JAVA_HOME or PATH) and check its version."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from infra.local.errors import InfraError

DEBIAN_JAVA_17 = Path("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
_VERSION = re.compile(r'version "(?P<version>[^"]+)"')


def parse_major_version(version_output: str) -> int:
    """Major version from `java -version` output: "17.0.15" -> 17, "1.8.0_392" -> 8."""
    match = _VERSION.search(version_output)
    if match is None:
        raise ValueError(f"no version string in java -version output: {version_output!r}")
    parts = match.group("version").split(".")
    head = parts[0].split("-")[0]
    if head == "1" and len(parts) > 1:
        return int(parts[1])
    return int(head)


def candidates() -> list[Path]:
    """Where a Java 17 may be, best first: PARLEY_JAVA, Debian's path, any /usr/lib/jvm/*17*."""
    found: list[Path] = []
    if explicit := os.environ.get("PARLEY_JAVA"):
        return [Path(explicit)]
    found.append(DEBIAN_JAVA_17)
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        found.extend(sorted(p / "bin" / "java" for p in jvm_root.glob("*17*")))
    return found


def require_java(major: int) -> Path:
    """The path of a `java` whose `-version` says `major`, or an InfraError naming the fix."""
    tried: list[str] = []
    for path in candidates():
        if not path.is_file():
            tried.append(f"{path}: not found")
            continue
        output = subprocess.run(
            [str(path), "-version"], capture_output=True, text=True, check=False
        )
        text = output.stderr + output.stdout
        try:
            actual = parse_major_version(text)
        except ValueError:
            tried.append(f"{path}: unreadable version ({text.strip()[:80]})")
            continue
        if actual == major:
            return path
        tried.append(f"{path}: Java {actual}")
    raise InfraError(
        problem=f"no Java {major} found (Cassandra 5.0 needs 11 or 17 and cannot run on 24+)",
        fix=f"apt-get install openjdk-{major}-jre-headless, or set PARLEY_JAVA=/path/to/"
        f"java{major}/bin/java",
        detail="\n".join(tried),
    )
