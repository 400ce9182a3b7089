"""A second, private Kafka broker on free ports, for tests that must stop and restart Kafka.

Same pinned jars and broker settings as infra/local; its own data dir. Stopping it does not
disturb the shared stack other tests use.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from infra.local.java import require_java
from infra.local.kafka import BROKER_SETTINGS, LOG4J, Kafka, new_cluster_id
from infra.local.settings import HOST, Settings, load_versions
from parley.adapters.kafka_admin import kafka_available


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivateKafka:
    root: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def _command(self) -> list[str]:
        versions = load_versions()
        engine = Kafka(Settings.from_env(), versions)
        java = str(require_java(int(versions["java"]["major"])))
        data, conf = self.root / "data", self.root / "conf"
        data.mkdir(parents=True, exist_ok=True)
        conf.mkdir(parents=True, exist_ok=True)
        settings = BROKER_SETTINGS | {
            "controller.quorum.voters": f"1@{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "log.dirs": str(data),
        }
        properties = conf / "server.properties"
        properties.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        (conf / "log4j.properties").write_text(LOG4J)
        jvm = [java, f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}",
               "-cp", f"{engine.lib_dir}/*"]  # fmt: skip
        if not (data / "meta.properties").exists():
            subprocess.run(
                [*jvm, "kafka.tools.StorageTool", "format", "-t", new_cluster_id(),
                 "-c", str(properties), "--ignore-formatted"],
                check=True, capture_output=True,
            )  # fmt: skip
        return [jvm[0], "-Xms256m", "-Xmx256m", *jvm[1:], "kafka.Kafka", str(properties)]

    def start(self, timeout_s: float = 90.0) -> None:
        command = self._command()
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
