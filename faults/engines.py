"""Handles on the local cluster's engine processes for fault injection: pid, kill -9, freeze,
restart, the leader of a partition, and a broker's data dir on a small tmpfs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from infra.local import cluster, processes
from infra.local.cluster_stack import launch, wait_ready
from infra.local.engine import Engine
from infra.local.settings import load_versions


class ClusterEngines:
    """The engines `make cluster-up` started, found by their pid files."""

    def __init__(self) -> None:
        self.settings = cluster.cluster_settings()
        self.engines = {e.name: e for e in cluster.engines(self.settings, load_versions())}

    def pid(self, name: str) -> int:
        engine = self.engines[name]
        pid = processes.running_pid(self.settings.pid_file(name), engine.marker)
        if pid is None:
            raise RuntimeError(f"{name} is not running (make cluster-up)")
        return pid

    def is_up(self) -> bool:
        try:
            for name in self.engines:
                self.pid(name)
        except RuntimeError:
            return False
        return True

    def kill(self, name: str) -> None:
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        while processes.is_alive(pid):
            with _reaped():
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)

    def stop(self, name: str) -> None:
        """SIGTERM, SIGKILL after 30 s; nothing when it is not running."""
        engine = self.engines[name]
        pid = processes.running_pid(self.settings.pid_file(name), engine.marker)
        if pid is not None:
            processes.stop(pid, 30.0)

    def freeze(self, name: str, seconds: float) -> None:
        pid = self.pid(name)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    def restart(self, name: str) -> float:
        """Starts a stopped engine again; seconds until it serves."""
        engine: Engine = self.engines[name]
        started = time.monotonic()
        wait_ready(engine, launch(engine), started)
        return time.monotonic() - started

    def partition_leader(self, topic: str, partition: int = 0) -> str:
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=cluster.BOOTSTRAP, client_id="parley-faults")
        try:
            (description,) = admin.describe_topics([topic])
        finally:
            admin.close()
        for entry in description["partitions"]:  # kafka-python names them as the protocol does
            if entry.get("partition_index", entry.get("partition")) == partition:
                return f"kafka-{entry.get('leader_id', entry.get('leader'))}"
        raise RuntimeError(f"{topic}[{partition}] has no leader")

    def data_on_tmpfs(self, name: str, size_mb: int) -> Path:
        """Moves a stopped broker's data dir onto a tmpfs of `size_mb` (root only)."""
        data = self.settings.data_dir(name)
        saved = Path(tempfile.mkdtemp(prefix="parley-faults-"))
        shutil.copytree(data, saved / "data", dirs_exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(data)],
                       check=True)  # fmt: skip
        shutil.copytree(saved / "data", data, dirs_exist_ok=True)
        shutil.rmtree(saved)
        return data

    def data_off_tmpfs(self, name: str) -> None:
        """Copies a stopped broker's data back to disk and unmounts its tmpfs."""
        data = self.settings.data_dir(name)
        saved = Path(tempfile.mkdtemp(prefix="parley-faults-"))
        shutil.copytree(data, saved / "data", dirs_exist_ok=True)
        subprocess.run(["umount", str(data)], check=True)
        shutil.copytree(saved / "data", data, dirs_exist_ok=True)
        shutil.rmtree(saved)


class _reaped:
    """Ignores ChildProcessError: the engine is our child only if this process started it."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: object, tb: object) -> bool:
        return isinstance(error, ChildProcessError)
