"""MinIO in single-drive mode on 127.0.0.1, built from source with `go install` and cached."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.local import buckets
from infra.local.engine import Engine
from infra.local.errors import InfraError
from infra.local.settings import HOST, MINIO_CONSOLE_PORT, MINIO_PORT

ENDPOINT = f"{HOST}:{MINIO_PORT}"
MODULE = "github.com/minio/minio"


def find_go() -> str:
    found = shutil.which("go") or next(
        (str(p) for p in (Path("/usr/local/go/bin/go"),) if p.is_file()), None
    )
    if found is None:
        raise InfraError(
            problem="go is not on PATH; MinIO is built from source with `go install`",
            fix="install Go 1.24 or newer (https://go.dev/dl, or the Go module proxy's "
            "toolchain), put it on PATH and rerun `make infra-install`",
        )
    return found


class MinIO(Engine):
    name = package = "minio"
    ports = (MINIO_PORT, MINIO_CONSOLE_PORT)
    ready_timeout_s = 60.0
    stop_grace_s = 10.0
    background = True  # media bytes yield the CPU to messages (Kafka, Cassandra, the services)

    @property
    def binary(self) -> Path:
        return self.install_dir / "bin" / "minio"

    def is_installed(self) -> bool:
        return self.binary.is_file() and os.access(self.binary, os.X_OK)

    def install(self) -> None:
        if self.is_installed():
            return
        go = find_go()
        staging = self.binary.parent.with_name("bin.partial")
        build_log = self.binary.parent.with_name("build.log")
        staging.mkdir(parents=True, exist_ok=True)
        # Official builds use CGO off; GOTOOLCHAIN=local stops go from fetching a toolchain;
        # GOFLAGS is dropped because -mod=vendor breaks `go install pkg@version`.
        env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOBIN": str(staging)}
        env.pop("GOFLAGS", None)
        command = [go, "install", "-trimpath", "-ldflags", "-s -w", f"{MODULE}@{self.version}"]
        print(f"building MinIO {self.version} with go (a few minutes cold; log: {build_log})",
              file=sys.stderr, flush=True)  # fmt: skip
        with build_log.open("w") as log:
            result = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            raise InfraError(
                problem=f"`go install {MODULE}@{self.version}` failed (exit {result.returncode})",
                fix="check access to the Go module proxy (go env GOPROXY GOSUMDB) and the Go "
                "version (go.mod needs 1.24+), then rerun `make infra-install`",
                detail="\n".join(build_log.read_text().splitlines()[-30:]),
            )
        self.binary.parent.mkdir(parents=True, exist_ok=True)
        (staging / "minio").rename(self.binary)
        staging.rmdir()

    def prepare(self) -> list[str]:
        data = self.settings.data_dir(self.name)
        data.mkdir(parents=True, exist_ok=True)
        # --console-address is mandatory: without it the console binds a random port on all
        # interfaces.
        return [str(self.binary), "server", str(data), "--address", ENDPOINT,
                "--console-address", f"{HOST}:{MINIO_CONSOLE_PORT}"]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "MINIO_ROOT_USER": self.settings.minio_root_user,
            "MINIO_ROOT_PASSWORD": self.settings.minio_root_password,
            "MINIO_UPDATE": "off",
        }

    def client(self) -> Any:
        from minio import Minio

        return Minio(
            ENDPOINT,
            access_key=self.settings.minio_root_user,
            secret_key=self.settings.minio_root_password,
            secure=False,
        )

    def probe(self) -> None:
        self.client().list_buckets()

    def provision(self) -> None:
        buckets.apply(self.client(), buckets.load_spec())
