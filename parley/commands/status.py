"""`parley status`: engines (where the settings say, whoever started them), children, gRPC health,
projection lag."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from collections.abc import Iterator

import click
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infra.local import engine_status
from infra.local.__main__ import build_engines
from infra.local.engine_status import Address
from infra.local.settings import load_versions
from parley.commands.run import read_state
from parley.commands.targets import delivery_target, ingress_target, media_target
from parley.config import Settings


def is_listening(target: str) -> bool:
    host, _, port = target.rpartition(":")
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, int(port))) == 0


def health_of(target: str) -> str:
    """SERVING / NOT_SERVING / the error of a grpc.health.v1 check of the whole server."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=2.0
            )
        except grpc.RpcError as error:
            return f"{error.code().name}"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def address_of(endpoint: str, default_port: int) -> Address:
    """("host", port) of "host:port", "[v6]:port" or a bare host."""
    text = endpoint.strip()
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(text.strip("[]"))), default_port  # an address alone
    host, colon, port = text.rpartition(":")
    return (host.strip("[]"), int(port)) if colon else (text, default_port)


def engine_addresses(settings: Settings) -> dict[str, list[Address]]:
    """Where the services connect to each engine: what `parley status` probes."""
    return {
        "kafka": [address_of(a, 9092) for a in settings.kafka_bootstrap.split(",") if a.strip()],
        "cassandra": [(host, settings.cassandra_port) for host in settings.cassandra_hosts],
        "minio": [address_of(settings.minio_endpoint, 443 if settings.minio_secure else 80)],
    }


def engine_lines(settings: Settings) -> Iterator[tuple[str, bool]]:
    versions = load_versions()
    for row in engine_status.status(build_engines([]), engine_addresses(settings)):
        # The pinned version is only known to be the running one for this checkout's engines.
        version = versions.get(row.name, {}).get("version", "?") if row.is_ours else "-"
        yield (
            f"{row.name:<12} {row.state:<5} {version:<14} {row.ports_text(with_host=True)}  "
            f"{row.owner}",
            row.is_up,
        )


def service_lines(settings: Settings) -> Iterator[tuple[str, bool]]:
    state = read_state(settings)
    pids: dict[str, int] = (state or {}).get("children", {})
    if state is None:
        yield "parley run   not running (no state file for this ingress port)", False
    else:
        yield f"parley run   pid={state['pid']}", is_alive(int(state["pid"]))
    for name, pid in sorted(pids.items()):
        yield f"{name:<12} {'up' if is_alive(pid) else 'DEAD':<5} pid={pid}", is_alive(pid)
    for name, target, metrics in (
        ("ingress", ingress_target(settings), f"  metrics :{settings.ingress_metrics_port}"),
        ("delivery", delivery_target(settings), f"  metrics :{settings.delivery_metrics_port}"),
        ("media", media_target(settings), ""),
    ):
        health = health_of(target) if is_listening(target) else "not listening"
        yield f"{name:<12} {target:<20} health {health}{metrics}", health == "SERVING"


def lag_lines(settings: Settings) -> Iterator[tuple[str, bool]]:
    from streams.lag import projection_lag  # the projections' own definition of lag

    try:
        lags = projection_lag(settings)
    except Exception as error:  # any engine failure: report it, do not crash the report
        yield f"projection   lag unknown ({type(error).__name__}: {error})", False
        return
    total = sum(p.lag for p in lags)
    detail = " ".join(f"p{p.partition}={p.lag}" for p in lags)
    yield (
        f"projection   lag {total} events ({detail})  metrics :{settings.projector_metrics_port}",
        True,
    )


@click.command("status")
def status() -> None:
    """Show engines (up where the settings name them; this checkout's or whose process),
    Parley's processes, health and projection lag."""
    settings = Settings()
    healthy = True
    for title, lines in (
        ("engines", engine_lines(settings)),
        ("services", service_lines(settings)),
        ("projections", lag_lines(settings)),
    ):
        click.echo(f"== {title}")
        for text, ok in lines:
            healthy &= ok
            click.echo(f"  {text}")
    raise SystemExit(0 if healthy else 1)
