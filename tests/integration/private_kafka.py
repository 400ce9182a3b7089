"""A second, private Kafka broker on free ports, for tests that must stop and restart Kafka.

infra/local's Kafka engine with its own ports and var root (config, data, cluster id): the same
pinned jars and broker settings. Stopping it does not disturb the shared stack other tests use.
"""

from __future__ import annotations

import dataclasses
import signal
import socket
import subprocess
import time
from pathlib import Path

from infra.local.kafka import BROKER_SETTINGS, Kafka
from infra.local.settings import HOST, Settings, load_versions
from parley.adapters.kafka_admin import kafka_available


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class PrivateKafka(Kafka):
    """Started, paused and killed by the test itself, not by infra/local's process files."""

    heap = "256m"

    def __init__(self, root: Path) -> None:
        super().__init__(dataclasses.replace(Settings.from_env(), var_root=root), load_versions())
        self.root = root
        self.port, self.controller_port = free_port(), free_port()
        self.ports = (self.port, self.controller_port)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def broker_settings(self) -> dict[str, str]:
        return BROKER_SETTINGS | {
            "controller.quorum.voters": f"1@{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
        }

    def start(self, timeout_s: float = 90.0) -> None:
        command = self.prepare()
        log = (self.root / "kafka.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while not kafka_available(self.bootstrap, timeout_s=2.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (self.root / "kafka.log").read_text()[-3000:]
                raise RuntimeError(f"private Kafka did not start:\n{tail}")
            time.sleep(0.2)

    def pause(self) -> None:
        """SIGSTOP: connections stay open, requests reach the socket and wait unanswered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL, paused or not: the kernel closes its connections at once."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused JVM handles SIGTERM only then
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
