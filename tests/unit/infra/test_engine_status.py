"""Engine status: up is answering on the port, whoever started it; the owner is named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from faults.probes import free_port
from infra.local.engine import Engine
from infra.local.engine_status import status
from infra.local.settings import Settings as InfraSettings
from parley.commands.status import engine_addresses
from parley.config import Settings

LISTEN = """
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
print(server.getsockname()[1], flush=True)
sys.stdin.read()
"""


class FakeEngine(Engine):
    name = "fake"
    ready_timeout_s = stop_grace_s = 1.0

    def __init__(self, var_root: Path, ports: tuple[int, ...]) -> None:
        super().__init__(InfraSettings(var_root, var_root, "u", "p", "k"), {})
        self.ports = ports

    @property
    def version(self) -> str:
        return "1"

    def is_installed(self) -> bool:
        return True

    def install(self) -> None: ...

    def prepare(self) -> list[str]:
        return []

    def probe(self) -> None: ...

    def provision(self) -> None: ...


def test_engine_status__a_listener_this_checkout_did_not_start_is_up_and_named(
    tmp_path: Path, listener: int
) -> None:
    other = free_port()
    (row,) = status([FakeEngine(tmp_path, (listener, other))])  # no pid file in tmp_path
    assert row.is_up and not row.is_ours
    assert row.ports_text() == f"{listener} {other}(closed)"
    assert row.owner.startswith("not started by this checkout: ")
    assert f"pid {os.getpid()} (" in row.owner and f"cwd {Path.cwd()}" in row.owner


def test_engine_status__the_pid_file_names_this_checkouts_engine(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, ())
    # a listener whose command line carries the engine's marker, as every engine's does
    with subprocess.Popen(
        [sys.executable, "-c", LISTEN, engine.marker],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stdin is not None
        engine.ports = (int(process.stdout.readline()),)
        engine.settings.pid_file("fake").parent.mkdir(parents=True)
        engine.settings.pid_file("fake").write_text(f"{process.pid}\n")
        (row,) = status([engine])
        process.stdin.close()
    assert row.is_up and row.is_ours
    assert row.owner == f"pid {process.pid}, started by this checkout"


def test_engine_status__nothing_answering_is_down(tmp_path: Path) -> None:
    port = free_port()
    (row,) = status([FakeEngine(tmp_path, (port,))])
    assert (row.is_up, row.state, row.owner) == (False, "DOWN", "")
    assert row.ports_text(with_host=True) == f"127.0.0.1:{port}(closed)"


def test_engine_status__probes_where_the_settings_point(tmp_path: Path, listener: int) -> None:
    settings = Settings(
        kafka_bootstrap=f"127.0.0.1:{free_port()}, localhost:{listener}",
        cassandra_hosts=["10.0.0.7", "10.0.0.8"],
        cassandra_port=19042,
        minio_endpoint="[::1]:19000",
    )
    addresses = engine_addresses(settings)
    assert addresses["cassandra"] == [("10.0.0.7", 19042), ("10.0.0.8", 19042)]
    assert addresses["minio"] == [("::1", 19000)]
    engine = FakeEngine(tmp_path, (9092, 9093))
    (row,) = status([engine], {"fake": addresses["kafka"]})
    assert row.is_up  # one broker of the bootstrap list answering is enough
    assert f"localhost:{listener}" in row.ports_text(with_host=True)
    assert "9093" not in row.ports_text()  # the local engine's own ports are not the settings'
    assert f"pid {os.getpid()}" in row.owner
