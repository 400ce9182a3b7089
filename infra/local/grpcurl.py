"""grpcurl (a Go gRPC client) built from the Go module proxy into ~/.cache/parley/grpcurl/<ver>/.

`python -m infra.local.grpcurl` installs it when missing and prints the binary's path; the
interop tests and `.ci/run` call it. Needs `go` on PATH (or $GO) and the Go module proxy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra.local import cli
from infra.local.errors import InfraError
from infra.local.settings import Settings

MODULE = "github.com/fullstorydev/grpcurl/cmd/grpcurl"
VERSION = "v1.9.3"  # the Go proxy's v1.9.x line; builds with go >= 1.21


def binary(settings: Settings | None = None) -> Path:
    settings = settings or Settings.from_env()
    return settings.cache_dir("grpcurl", VERSION) / "grpcurl"


def install(settings: Settings | None = None) -> Path:
    """Builds grpcurl once per version; a cached binary is returned at once."""
    target = binary(settings)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    go = os.environ.get("GO") or shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists():
        raise InfraError("no `go` toolchain found", "install Go >= 1.21 or set GO=/path/to/go")
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(target.parent), "CGO_ENABLED": "0"}
    result = subprocess.run(
        [go, "install", f"{MODULE}@{VERSION}"], env=env, capture_output=True, text=True
    )
    if result.returncode != 0 or not target.is_file():
        raise InfraError(
            f"`go install {MODULE}@{VERSION}` failed",
            "check network access to the Go module proxy (GOPROXY)",
            detail=result.stderr[-3000:],
        )
    return target


def main() -> int:
    return cli.run(lambda: print(install()))


if __name__ == "__main__":
    sys.exit(main())
