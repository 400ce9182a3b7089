"""Where the engines live (caches, data, logs), their ports and credentials; env overrides."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"
VERSIONS_FILE = INFRA_DIR / "versions.toml"

# Ports are fixed: the compose stack, the tests and the services all assume them.
HOST = "127.0.0.1"
KAFKA_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
CASSANDRA_CQL_PORT = 9042
CASSANDRA_STORAGE_PORT = 7000
MINIO_PORT = 9000
MINIO_CONSOLE_PORT = 9001


def load_versions(path: Path = VERSIONS_FILE) -> dict[str, Any]:
    """The pinned versions, keyed by table name ("kafka", "cassandra", ...)."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class Settings:
    """Resolved locations and credentials; build with `Settings.from_env()`."""

    cache_root: Path
    var_root: Path
    minio_root_user: str
    minio_root_password: str
    cassandra_keyspace: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            cache_root=Path(
                os.environ.get("PARLEY_CACHE_DIR", Path.home() / ".cache" / "parley")
            ).resolve(),
            var_root=Path(os.environ.get("PARLEY_VAR_DIR", REPO_ROOT / "var")).resolve(),
            minio_root_user=os.environ.get("PARLEY_MINIO_ACCESS_KEY", "parley"),
            minio_root_password=os.environ.get("PARLEY_MINIO_SECRET_KEY", "parley-secret"),
            cassandra_keyspace=os.environ.get("PARLEY_CASSANDRA_KEYSPACE", "parley"),
        )

    def cache_dir(self, engine: str, version: str) -> Path:
        """Per-version install dir: a second install of the same version is a no-op."""
        return self.cache_root / engine / version

    def data_dir(self, engine: str) -> Path:
        return self.var_root / engine / "data"

    def conf_dir(self, engine: str) -> Path:
        return self.var_root / engine / "conf"

    def log_file(self, engine: str) -> Path:
        return self.var_root / engine / "log" / f"{engine}.log"

    def pid_file(self, engine: str) -> Path:
        return self.var_root / "run" / f"{engine}.pid"
