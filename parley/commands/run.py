"""`parley run`: engines if needed, provisioning, then the services as supervised children."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from infra.local.settings import Settings as InfraSettings
from parley.commands.provision import provision
from parley.config import Settings
from parley.observability import configure_logging
from parley.supervisor import ChildSpec, Supervisor

log = logging.getLogger("parley.run")
LOCAL_BOOTSTRAP = "127.0.0.1:9092"


def state_file(settings: Settings) -> Path:
    """Where `parley run` records its children, one file per ingress port (one stack each)."""
    return InfraSettings.from_env().var_root / "run" / f"parley-{settings.ingress_port}.json"


def read_state(settings: Settings) -> dict[str, Any] | None:
    path = state_file(settings)
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state


def children(projectors: int, projector_group: str | None) -> list[ChildSpec]:
    python = sys.executable
    specs = [ChildSpec("ingress", [python, "-m", "services.ingress"])]
    projector = [
        python,
        "-m",
        "streams",
        *(["--app-id", projector_group] if projector_group else []),
    ]
    specs += [
        ChildSpec(f"projector-{i}" if projectors > 1 else "projector", projector)
        for i in range(1, projectors + 1)
    ]
    specs.append(ChildSpec("delivery", [python, "-m", "services.delivery"]))
    specs.append(ChildSpec("media", [python, "-m", "services.media"]))
    # Seals checkpoints of the ingress and delivery folds, so restarts read only the tail.
    specs.append(ChildSpec("checkpoints", [python, "-m", "services.checkpoints"]))
    # POSTs events to the webhook endpoints admins registered (signed, at least once).
    specs.append(ChildSpec("webhooks", [python, "-m", "services.webhooks"]))
    return specs


async def supervise(supervisor: Supervisor) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, supervisor.stop)
    await supervisor.run()


@click.command("run")
@click.option(
    "--engines/--no-engines",
    default=None,
    help="Start local Kafka, Cassandra and MinIO (default: when Kafka is 127.0.0.1:9092).",
)
@click.option("--projectors", default=1, show_default=True, help="Projector worker processes.")
@click.option(
    "--projector-group",
    default=None,
    envvar="PARLEY_PROJECTOR_GROUP",
    help="Consumer group of the projectors (Faust app id).",
)
@click.option("--grace", default=15.0, show_default=True, help="Seconds a child gets to stop.")
def run(engines: bool | None, projectors: int, projector_group: str | None, grace: float) -> None:
    """Start the whole system in the foreground; Ctrl-C stops every process."""
    settings = Settings()
    configure_logging("parley-run", settings.log_level)
    for name in settings.insecure_defaults():
        log.warning("setting %s has its published development value", name)
    if engines if engines is not None else settings.kafka_bootstrap == LOCAL_BOOTSTRAP:
        up = subprocess.run([sys.executable, "-m", "infra.local", "up"], check=False)
        if up.returncode != 0:
            sys.exit(up.returncode)
    for change in provision(settings):
        log.info("provisioned: %s", change)
    supervisor = Supervisor(
        children(projectors, projector_group), grace_s=grace, state_file=state_file(settings)
    )
    asyncio.run(supervise(supervisor))
    log.info("all children stopped")
