"""Runs the faults one at a time under load, each followed by recovery and a check; returns the
report that `python -m faults` prints as one JSON line."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from faults import checker
from faults.engines import ClusterEngines
from faults.injectors import FAULTS, SHORT, Fault
from faults.load import Load
from faults.system import System
from parley.config import Settings
from parley.sdk import ParleyClient
from parley.sdk.errors import ParleyError
from parley.sdk.types import Conversation

log = logging.getLogger("faults")
PROBE_TIMEOUT_S = 180.0


@dataclass
class Profile:
    name: str
    users: int
    rate: float  # sends per second per user
    faults: list[str]
    settle_s: float  # load after each fault's recovery, before the check


PROFILES = {
    "full": Profile("full", 6, 1.0, [f.name for f in FAULTS], 5.0),
    "short": Profile("short", 4, 1.0, SHORT, 2.0),
}


@dataclass
class Probe:
    """Two users that measure recovery: a send, and its arrival on the other's session."""

    sender: ParleyClient
    receiver: ParleyClient
    got: set[str] = field(default_factory=set)

    async def listen(self) -> None:
        async for event in self.receiver.events(device="probe"):
            message = getattr(event, "message", None)
            if message is not None:
                self.got.add(message.message_id)

    async def round_trip(self, timeout_s: float = 3.0) -> bool:
        try:
            sent = await asyncio.wait_for(
                self.sender.send(Conversation.peer(self.receiver.user_id), "probe"), timeout_s
            )
        except (ParleyError, TimeoutError):
            return False
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sent.message_id in self.got:
                return True
            await asyncio.sleep(0.05)
        return False

    async def recovery_s(self, hit: asyncio.Event, injected: asyncio.Task[None]) -> float:
        """Seconds from the fault's moment until a send reaches a session again."""
        await asyncio.wait([asyncio.ensure_future(hit.wait()), injected],
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        started = time.monotonic()
        while time.monotonic() - started < PROBE_TIMEOUT_S:
            if await self.round_trip():
                return time.monotonic() - started
            await asyncio.sleep(0.1)
        return -1.0


async def run_fault(
    fault: Fault, system: System, engines: ClusterEngines | None, load: Load, probe: Probe
) -> dict[str, Any]:
    load.fault = fault.name
    load.hit = asyncio.Event()
    started = time.monotonic()
    injected = asyncio.create_task(fault.inject(system, engines, load))
    recovery = await probe.recovery_s(load.hit, injected)
    await injected
    await asyncio.sleep(2.0)
    await load.pause()
    settings = system.settings()
    await checker.wait_projected(settings)
    holdings = await checker.read_holdings(load)
    await checker.wait_delivered(load, holdings)
    # Sessions' delivered acks are events too: let the projector apply them before the replay.
    await checker.wait_projected(settings)
    acked, lost, duplicated = checker.lost_and_duplicated(load, holdings, fault.name)
    delivered_twice, undelivered = checker.delivery_faults(load, holdings)
    diffs = await asyncio.to_thread(checker.projection_diffs, settings, system.environment())
    load.resume()
    return {
        "acked": acked,
        "lost": lost,
        "duplicated": duplicated,
        "delivered_twice": delivered_twice,
        "seq_gaps": holdings.seq_gaps(),
        "projection_diffs": diffs,
        "recovery_s": round(recovery, 2),
        "undelivered": undelivered,
        "seconds": round(time.monotonic() - started, 1),
    }


def security_groups(system: System, profile: str) -> dict[str, Any]:
    """The security suite's case groups (faults.security.run, built beside this suite) against
    the same running system, once the faults are over."""
    from faults.security import Targets, run

    settings = system.settings()
    targets = dataclasses.replace(
        Targets.from_settings(settings),
        ingress=system.services["ingress-1"].target,
        delivery=system.services["delivery-1"].target,
        media=system.services["media"].target,
        pids=tuple(service.pid for service in system.services.values()),
    )
    return run(targets, profile)


async def run_suite(base: Settings, profile: Profile, on_cluster: bool) -> dict[str, Any]:
    started = time.monotonic()
    engines = ClusterEngines() if on_cluster else None
    faults = [f for f in FAULTS if f.name in profile.faults and (on_cluster or not f.needs_cluster)]
    system = System(base)
    await asyncio.to_thread(system.start)
    load = Load(system.settings(), system.ingress_targets(), system.delivery_target(),
                profile.users, profile.rate)  # fmt: skip
    results: dict[str, Any] = {}
    try:
        await load.start()
        probe = await _probe(system, load)
        listening = asyncio.create_task(probe.listen())
        await asyncio.sleep(5.0)  # warm up: sessions open, some history
        # Counted over the whole history and keyspace at each check: each fault reports the
        # new ones only, so damage one fault did is not charged to the faults after it.
        so_far = {k: 0 for k in ("seq_gaps", "undelivered", "delivered_twice", "projection_diffs")}
        for fault in faults:
            log.warning("fault %s", fault.name)
            try:
                result = await run_fault(fault, system, engines, load, probe)
            except Exception as error:  # report it and go on with the next fault
                log.exception("fault %s could not be checked", fault.name)
                results[fault.name] = {"error": f"{type(error).__name__}: {error}"}
                load.resume()
                continue
            for key, total in so_far.items():
                result[key], so_far[key] = max(0, result[key] - total), result[key]
            results[fault.name] = result
            log.warning("fault %s: %s", fault.name, result)
        await load.pause()
        listening.cancel()
        security = await asyncio.to_thread(security_groups, system, profile.name)
    finally:
        await load.close()
        await asyncio.to_thread(system.stop)
    return {
        "suite": "chaos",
        "profile": profile.name,
        "target": "cluster" if on_cluster else "single-node",
        "faults": results,
        "totals": _totals(results),
        "security": security,
        "client_errors": load.record.errors,
        "seconds": round(time.monotonic() - started, 1),
    }


async def _probe(system: System, load: Load) -> Probe:
    users = [f"probe{uuid.uuid4().hex[:4]}{side}" for side in "ab"]
    target = "ipv4:" + ",".join(system.ingress_targets())
    sender, receiver = [
        await ParleyClient.connect(target, load.token(u), delivery_target=system.delivery_target())
        for u in users
    ]
    return Probe(sender, receiver)


def _totals(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "acked",
        "lost",
        "duplicated",
        "delivered_twice",
        "seq_gaps",
        "projection_diffs",
        "undelivered",
    )
    totals: dict[str, Any] = {k: sum(r.get(k, 0) for r in results.values()) for k in keys}
    totals["errors"] = sum(1 for r in results.values() if "error" in r)
    recoveries = [r["recovery_s"] for r in results.values() if "recovery_s" in r]
    totals["max_recovery_s"] = max(recoveries, default=0.0)
    return totals
