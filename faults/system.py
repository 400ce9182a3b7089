"""The system under test: Parley's services as separate processes on fresh topics and keyspace,
each one killable and restartable by itself (two ingress workers, one projector, two delivery
nodes), pointed at the engines by PARLEY_* settings only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from faults.probes import free_port, is_serving
from parley.adapters.cassandra import connect
from parley.adapters.kafka_admin import delete_topics
from parley.commands.provision import provision
from parley.config import Settings

ROOT = Path(__file__).resolve().parents[1]
LOG_DIR = ROOT / "var" / "faults"


@dataclass
class Service:
    """One service process: `start` (again after a kill), `kill` (SIGKILL), `pid`."""

    name: str
    argv: list[str]
    env: dict[str, str]
    target: str = ""  # host:port its gRPC health answers on; "" for the projector
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with (LOG_DIR / f"{self.name}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", *self.argv],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, grace_s: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_serving(self, timeout_s: float = 120.0) -> float:
        """Seconds until its health check says SERVING (the projector: until it runs)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            if not self.target or is_serving(self.target):
                return time.monotonic() - started
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not serving after {timeout_s:.0f}s")


@dataclass
class System:
    """Fresh topics and keyspace on the engines `base` points at, and the services on them."""

    base: Settings
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def keyspace(self) -> str:
        return f"faults_{self.run_id}"

    def environment(self) -> dict[str, str]:
        names = {
            "PARLEY_TOPIC_CONVERSATION_EVENTS": f"faults-{self.run_id}.conversation-events",
            "PARLEY_TOPIC_SIGNALS": f"faults-{self.run_id}.signals",
            "PARLEY_TOPIC_USER_UPDATES": f"faults-{self.run_id}.user-updates",
            "PARLEY_TOPIC_BROADCASTS": f"faults-{self.run_id}.broadcasts",
        }
        return {
            **os.environ,
            **names,
            "PARLEY_CASSANDRA_KEYSPACE": self.keyspace,
            "PARLEY_LOG_LEVEL": "WARNING",
            "PARLEY_INGRESS_WORKERS": "1",
        }

    def settings(self) -> Settings:
        """Settings as the services see them (for provisioning, lag and the checker)."""
        env = self.environment()
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start(self) -> None:
        provision(self.settings())
        env = self.environment()
        for index in (1, 2):
            port, metrics = free_port(), free_port()
            self._add(f"ingress-{index}", ["services.ingress"], env, port, {
                "PARLEY_INGRESS_PORT": str(port), "PARLEY_INGRESS_METRICS_PORT": str(metrics),
                "PARLEY_MEDIA_PORT": str(free_port()),
            })  # fmt: skip
        self._add("projector", ["streams", "--app-id", f"faults-{self.run_id}"], env, 0, {
            "PARLEY_PROJECTOR_METRICS_PORT": str(free_port()),
        })  # fmt: skip
        for index in (1, 2):
            port = free_port()
            self._add(f"delivery-{index}", ["services.delivery"], env, port, {
                "PARLEY_DELIVERY_PORT": str(port),
                "PARLEY_DELIVERY_METRICS_PORT": str(free_port()),
            })  # fmt: skip
        port = free_port()
        self._add("media", ["services.media"], env, port, {
            "PARLEY_MEDIA_PORT": str(port), "PARLEY_MEDIA_CLEANUP_INTERVAL_S": "0",
        })  # fmt: skip
        for service in self.services.values():
            service.start()
        for service in self.services.values():
            service.wait_serving()

    def _add(
        self, name: str, argv: list[str], env: dict[str, str], port: int, extra: dict[str, str]
    ) -> None:
        target = f"127.0.0.1:{port}" if port else ""
        self.services[name] = Service(name, argv, {**env, **extra}, target)

    def ingress_targets(self) -> list[str]:
        return [s.target for n, s in self.services.items() if n.startswith("ingress")]

    def delivery_target(self) -> str:
        """Both delivery nodes as one gRPC target: a session whose node dies reconnects to the
        other (pick_first moves on to the next address)."""
        ports = [s.target for n, s in self.services.items() if n.startswith("delivery")]
        return "ipv4:" + ",".join(ports)

    def stop(self, drop: bool = True) -> None:
        for service in self.services.values():
            service.stop()
        if drop:
            settings = self.settings()
            delete_topics(settings.kafka_bootstrap, list(settings.topics().values()))
            cluster, session = connect(settings.cassandra_hosts, settings.cassandra_port)
            try:
                session.execute(f"DROP KEYSPACE IF EXISTS {self.keyspace}", timeout=120)
            finally:
                cluster.shutdown()
