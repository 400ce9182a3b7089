"""`parley status` and `python -m infra.local status` report an engine that answers on its port
as up, and say whose process it is, also when another checkout (or anyone else) started it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from faults.probes import free_port
from infra.local.settings import REPO_ROOT

pytestmark = pytest.mark.integration

ENGINE_PORTS = {"kafka": 9092, "cassandra": 9042, "minio": 9000}
TIMEOUT_S = 120.0


@pytest.fixture
def engines(kafka_bootstrap: str, cassandra_session: Any, minio_client: Any) -> None:
    """The engines of `make infra-up`, which this test's state dir did not start."""


def listener_of(port: int) -> int:
    """The pid listening on `port`, found by psutil (independent of the code under test)."""
    pids = {
        c.pid
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
    }
    assert len(pids) == 1, f"port {port}: listeners {pids}"
    return pids.pop()


def foreign_state_env(state_dir: Path, **settings: str) -> dict[str, str]:
    """A checkout whose state dir holds no pid file: it started none of the engines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    ports = ("INGRESS", "DELIVERY", "MEDIA", "INGRESS_METRICS", "DELIVERY_METRICS")
    env.update({f"PARLEY_{name}_PORT": str(free_port()) for name in ports})
    return env | {"PARLEY_VAR_DIR": str(state_dir)} | settings


def engine_lines(stdout: str) -> dict[str, str]:
    """{engine: its line} from either command's output."""
    lines = [line.strip() for line in stdout.splitlines()]
    return {name: line for line in lines for name in ENGINE_PORTS if line.startswith(f"{name} ")}


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )


@pytest.mark.parametrize("command", ["infra.local", "parley.cli"])
def test_status__engines_started_elsewhere_are_up_and_named(
    engines: None, tmp_path: Path, command: str
) -> None:
    done = run([sys.executable, "-m", command, "status"], foreign_state_env(tmp_path))
    lines = engine_lines(done.stdout)
    assert set(lines) == set(ENGINE_PORTS), done.stdout
    for name, port in ENGINE_PORTS.items():
        assert "DOWN" not in lines[name] and " up " in f"{lines[name]} ", lines[name]
        assert "not started by this checkout" in lines[name]
        assert f"pid {listener_of(port)}" in lines[name]
    if command == "infra.local":  # `parley status` also reports its services, not running here
        assert done.returncode == 0, done.stdout + done.stderr


def test_parley_status__probes_the_port_the_settings_name(
    engines: None, tmp_path: Path, listener: int
) -> None:
    endpoint = f"127.0.0.1:{listener}"
    env = foreign_state_env(tmp_path, PARLEY_MINIO_ENDPOINT=endpoint)
    done = run([sys.executable, "-m", "parley.cli", "status"], env)
    minio = engine_lines(done.stdout)["minio"]
    assert " up " in minio and endpoint in minio, minio
    assert f"pid {os.getpid()}" in minio and "not started by this checkout" in minio
    assert f"cwd {Path.cwd()}" in minio
