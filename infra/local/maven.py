"""Fetch a JVM engine's runtime jars from Maven Central with maven-dependency-plugin."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from infra.local.errors import InfraError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>parley.infra</groupId>
  <artifactId>{name}-runtime</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""
_DEPENDENCY = """    <dependency>
      <groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>
    </dependency>"""


def render_pom(name: str, coordinates: list[str]) -> str:
    """A throw-away pom whose only job is to list `group:artifact:version` dependencies."""
    rows = []
    for coordinate in coordinates:
        group, artifact, version = coordinate.split(":")
        rows.append(_DEPENDENCY.format(group=group, artifact=artifact, version=version))
    return _POM.format(name=name, dependencies="\n".join(rows))


def copy_dependencies(name: str, coordinates: list[str], plugin: str, lib_dir: Path) -> None:
    """Fill `lib_dir` with the runtime jars; all-or-nothing (built aside, then renamed)."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError(
            problem="mvn (Apache Maven) is not on PATH; it fetches the Kafka/Cassandra jars",
            fix="apt-get install maven (3.8+), then rerun `make infra-install`",
        )
    lib_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=lib_dir.parent, prefix=".fetch-") as scratch:
        pom = Path(scratch) / "pom.xml"
        pom.write_text(render_pom(name, coordinates))
        staging = Path(scratch) / "lib"
        # -U: retry artifacts whose earlier download failed (Maven caches the failure).
        command = [
            mvn, "-B", "-q", "-U", "-Dstyle.color=never", "-f", str(pom),
            f"org.apache.maven.plugins:maven-dependency-plugin:{plugin}:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not any(staging.glob("*.jar")):
            output = _ANSI.sub("", result.stdout + result.stderr).strip().splitlines()
            raise InfraError(
                problem=f"downloading the {name} jars from Maven Central failed "
                f"(mvn exit {result.returncode})",
                fix="check that the versions in infra/versions.toml exist on Central and that "
                "repo.maven.apache.org is reachable (mind ~/.m2/settings.xml mirrors and "
                "proxies), then rerun `make infra-install`",
                detail="\n".join(output[-40:]) or "(mvn printed nothing)",
            )
        if lib_dir.exists():
            shutil.rmtree(lib_dir)
        staging.rename(lib_dir)
