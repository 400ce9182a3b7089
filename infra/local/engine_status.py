"""Whether each engine answers where clients connect, and whose process it is: this checkout's
(its pid file) or another's (the process listening on the port, from /proc). An engine another
checkout started is up, named by its pid, command and working directory, never DOWN."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from infra.local import ports, processes
from infra.local.engine import Engine
from infra.local.settings import HOST

Address = tuple[str, int]  # (host, port)


def is_this_machine(host: str) -> bool:
    """Loopback or this host's name: only there can /proc tell who listens."""
    if host in ("localhost", socket.gethostname()):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    answers: bool
    listeners: tuple[int, ...] = ()  # pids listening on the port (this machine only)

    def text(self, with_host: bool) -> str:
        where = f"{self.host}:{self.port}" if with_host else str(self.port)
        return where if self.answers else f"{where}(closed)"


def probe(host: str, port: int) -> Endpoint:
    answering = ports.answers(host, port)
    local = answering and is_this_machine(host)
    return Endpoint(
        host, port, answering, tuple(sorted(ports.listener_pids(port))) if local else ()
    )


@dataclass(frozen=True)
class EngineStatus:
    name: str
    pid: int | None  # this checkout's engine: its pid file names a live process of it
    clients: tuple[Endpoint, ...]  # where clients connect (any one answering will do)
    others: tuple[Endpoint, ...] = ()  # the engine's other ports, when it runs here

    @property
    def is_up(self) -> bool:
        """It answers where clients connect, whoever started it."""
        return any(endpoint.answers for endpoint in self.clients)

    @property
    def state(self) -> str:
        return "up" if self.is_up else "DOWN"

    def ports_text(self, with_host: bool = False) -> str:
        return " ".join(e.text(with_host) for e in (*self.clients, *self.others))

    def _answering_here(self) -> Endpoint | None:
        """The first answering endpoint on this machine, the one /proc can name a process of."""
        here = [e for e in self.clients if e.answers and is_this_machine(e.host)]
        return here[0] if here else None

    @property
    def is_ours(self) -> bool:
        """This checkout's engine answers (its pid file names the listening process)."""
        endpoint = self._answering_here()
        return endpoint is not None and self.pid is not None and self.pid in endpoint.listeners

    @property
    def owner(self) -> str:
        """Whose process answers: this checkout's, another's (pid, command, cwd), or remote."""
        endpoint = self._answering_here()
        if self.is_ours:
            return f"pid {self.pid}, started by this checkout"
        if not self.is_up:
            return "" if self.pid is None else f"this checkout's pid {self.pid} runs, not answering"
        if endpoint is None:
            return "remote"
        if not endpoint.listeners:
            return "not started by this checkout; its process is not visible here"
        return "not started by this checkout: " + "; ".join(
            map(ports.describe_pid, endpoint.listeners)
        )


def status(
    engines: Sequence[Engine], clients: Mapping[str, Sequence[Address]] | None = None
) -> list[EngineStatus]:
    """Each engine where `clients` says clients connect to it (by engine name; default: its
    first port on 127.0.0.1, its other ports shown beside)."""
    rows = []
    for engine in engines:
        pid = processes.running_pid(engine.settings.pid_file(engine.name), engine.marker)
        named = (clients or {}).get(engine.name)
        addresses = named if named is not None else [(HOST, engine.ports[0])]
        other_ports = () if named is not None else engine.ports[1:]
        rows.append(
            EngineStatus(
                engine.name,
                pid,
                tuple(probe(host, port) for host, port in addresses),
                tuple(probe(HOST, port) for port in other_ports),
            )
        )
    return rows
