"""What every local engine provides: install, configure, launch, probe and provision."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from infra.local import maven
from infra.local.java import require_java
from infra.local.settings import Settings


class Engine(ABC):
    """One engine (Kafka, Cassandra, MinIO). Subclasses hold no state beyond settings."""

    name: str
    package: str  # its table in versions.toml and its cache folder; a cluster's nodes share it
    ports: tuple[int, ...]  # every port it binds; all must be free before start
    ready_timeout_s: float  # how long `up` waits for the first successful probe
    stop_grace_s: float  # SIGTERM grace before SIGKILL
    # On one shared host (a laptop, CI) an engine that moves bulk bytes runs in the background
    # CPU class (processes.start), so that it slows down rather than the message path.
    background: bool = False

    def __init__(self, settings: Settings, versions: dict[str, Any]) -> None:
        self.settings = settings
        self.versions = versions

    @property
    def version(self) -> str:
        return str(self.versions[self.package]["version"])

    @property
    def install_dir(self) -> Path:
        """Where `install` puts this version: a second install of the same version is a no-op."""
        return self.settings.cache_dir(self.package, self.version)

    @property
    def marker(self) -> str:
        """A string in the engine's command line that proves a pid is this engine."""
        return str(self.settings.var_root / self.name)

    @abstractmethod
    def is_installed(self) -> bool: ...

    @abstractmethod
    def install(self) -> None:
        """Fetch or build into the per-version cache; a no-op when already there."""

    @abstractmethod
    def prepare(self) -> list[str]:
        """Write config, initialise data dirs; return the command line to launch."""

    def environment(self) -> dict[str, str] | None:
        """Environment for the launched process; None inherits ours."""
        return None

    @abstractmethod
    def probe(self) -> None:
        """One real client call; raises if the engine cannot serve it yet."""

    @abstractmethod
    def provision(self) -> None:
        """Apply the declarative state (topics, schema, buckets); idempotent."""


class JarEngine(Engine):
    """A JVM engine run from the jars Maven copies into its install dir."""

    main_jar: str  # a glob of the engine's own jar: its presence in lib_dir means installed
    heap: str  # the JVM's -Xms and -Xmx
    stop_grace_s = 30.0  # a JVM's shutdown hooks (Kafka's controlled shutdown, Cassandra's drain)

    @property
    def lib_dir(self) -> Path:
        return self.install_dir / "lib"

    @property
    def java(self) -> str:
        """The `java` of the major version versions.toml pins."""
        return str(require_java(int(self.versions["java"]["major"])))

    def jvm_options(self) -> list[str]:
        """What both JVMs run with: a fixed heap, G1, headless, and performance counters sampled
        once a second instead of 20 times (the sampler's wake-ups cost an idle node CPU)."""
        return [
            f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            "-XX:PerfDataSamplingInterval=1000",
        ]  # fmt: skip

    @abstractmethod
    def artifacts(self) -> list[str]:
        """The `group:artifact:version` coordinates of the runtime jars."""

    def is_installed(self) -> bool:
        return any(self.lib_dir.glob(self.main_jar))

    def install(self) -> None:
        if self.is_installed():
            return
        plugin = self.versions["maven"]["dependency_plugin"]
        maven.copy_dependencies(self.name, self.artifacts(), plugin, self.lib_dir)
