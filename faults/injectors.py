"""The faults, one coroutine each: inject, then recover (restart, resume, free the disk).

Each takes the running system, the cluster's engines (None on the single-node stack, where only
the services' faults run) and the load, and returns when the system has been given back what
the fault took away."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from faults.engines import ClusterEngines
from faults.load import Load, Send
from faults.system import System
from parley.sdk import ParleyClient
from parley.sdk.errors import ParleyError
from parley.sdk.types import Conversation

Inject = Callable[[System, ClusterEngines | None, Load], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Inject
    needs_cluster: bool = False


async def kill_projector_5_times(system: System, _: ClusterEngines | None, load: Load) -> None:
    projector = system.services["projector"]
    for _round in range(5):
        await asyncio.sleep(2.0)  # mid-batch: the load keeps it busy
        projector.kill()
        load.hit.set()
        projector.start()


async def kill_ingress_worker(system: System, _: ClusterEngines | None, load: Load) -> None:
    worker = system.services["ingress-1"]
    worker.kill()
    load.hit.set()
    await asyncio.sleep(5.0)
    worker.start()
    await asyncio.to_thread(worker.wait_serving)


async def kill_delivery_node(system: System, _: ClusterEngines | None, load: Load) -> None:
    node = system.services["delivery-1"]
    node.kill()  # its sessions reconnect to delivery-2 (the SDK's target lists both)
    load.hit.set()
    await asyncio.sleep(8.0)
    node.start()
    await asyncio.to_thread(node.wait_serving)


async def reconnect_storm(system: System, _: ClusterEngines | None, load: Load) -> None:
    await load.reconnect_all()
    load.hit.set()
    await asyncio.sleep(3.0)


async def same_send_two_workers(system: System, _: ClusterEngines | None, load: Load) -> None:
    """The same client message id sent through both ingress workers at the same moment."""
    user, peer = load.users[0], load.users[1]
    token = load.token(user)
    clients = [await ParleyClient.connect(target, token) for target in system.ingress_targets()]
    try:
        for _round in range(20):
            send = Send(load.fault, user, Conversation.peer(peer), uuid.uuid4().hex)
            load.record.sends.append(send)
            answers = await asyncio.gather(
                *(c.send(send.conversation, f"{send.fault} {send.client_message_id}",
                         client_message_id=send.client_message_id) for c in clients),
                return_exceptions=True,
            )  # fmt: skip
            ids = {a.message_id for a in answers if not isinstance(a, BaseException)}
            if len(ids) > 1:
                load.record.errors["TWO_IDS_FOR_ONE_SEND"] = 1 + load.record.errors.get(
                    "TWO_IDS_FOR_ONE_SEND", 0
                )
            if ids:
                send.message_id = ids.pop()
                send.conversation_key = send.conversation.key(user)
    finally:
        for client in clients:
            await client.close()


async def recall_races_delivery(system: System, _: ClusterEngines | None, load: Load) -> None:
    """Sends and recalls at once, so the recall is in the log while delivery pushes the send."""
    user = load.users[2 % len(load.users)]
    client = load.clients[user]
    for _round in range(20):
        conversation = Conversation.group(load.group)
        send = Send(load.fault, user, conversation, uuid.uuid4().hex)
        load.record.sends.append(send)
        try:
            sent = await client.send(conversation, f"{send.fault} {send.client_message_id}",
                                     client_message_id=send.client_message_id)  # fmt: skip
            send.message_id, send.conversation_key = sent.message_id, sent.conversation_key
            await client.recall(conversation, sent.message_id)
            send.recalled = True
        except ParleyError as error:
            load.record.errors[error.reason_name] = 1 + load.record.errors.get(error.reason_name, 0)


def _events_topic(system: System) -> str:
    return system.settings().topic_conversation_events


async def kill_partition_leader(system: System, engines: ClusterEngines | None, load: Load) -> None:
    assert engines is not None
    leader = await asyncio.to_thread(engines.partition_leader, _events_topic(system), 0)
    await asyncio.to_thread(engines.kill, leader)
    load.hit.set()
    await asyncio.sleep(10.0)
    await asyncio.to_thread(engines.restart, leader)


async def stop_kafka_20s(system: System, engines: ClusterEngines | None, load: Load) -> None:
    assert engines is not None
    brokers = [f"kafka-{n}" for n in (1, 2, 3)]
    await asyncio.gather(*(asyncio.to_thread(engines.stop, b) for b in brokers))
    load.hit.set()
    await asyncio.sleep(20.0)
    await asyncio.gather(*(asyncio.to_thread(engines.restart, b) for b in brokers))


async def kill_cassandra_node(system: System, engines: ClusterEngines | None, load: Load) -> None:
    assert engines is not None
    await asyncio.to_thread(engines.kill, "cassandra-3")
    load.hit.set()
    await asyncio.sleep(10.0)
    await asyncio.to_thread(engines.restart, "cassandra-3")


async def freeze_cassandra_node(system: System, engines: ClusterEngines | None, load: Load) -> None:
    assert engines is not None
    load.hit.set()
    await asyncio.to_thread(engines.freeze, "cassandra-2", 10.0)


async def broker_disk_full(system: System, engines: ClusterEngines | None, load: Load) -> None:
    """Broker 3's data dir on a 256 MB tmpfs, filled to the last byte; then freed."""
    assert engines is not None
    name = "kafka-3"
    await asyncio.to_thread(engines.stop, name)
    data = await asyncio.to_thread(engines.data_on_tmpfs, name, 256)
    try:
        await asyncio.to_thread(engines.restart, name)
        await asyncio.sleep(5.0)
        filler = data / "filler"
        await asyncio.to_thread(_fill, filler)
        load.hit.set()
        await asyncio.sleep(15.0)  # the broker meets the full disk under load
        filler.unlink()
        await asyncio.sleep(1.0)
        try:
            engines.pid(name)
        except RuntimeError:  # it shut down on the failed write: start it on the freed disk
            await asyncio.to_thread(engines.restart, name)
    finally:
        await asyncio.to_thread(engines.stop, name)
        await asyncio.to_thread(engines.data_off_tmpfs, name)
        await asyncio.to_thread(engines.restart, name)


def _fill(path: os.PathLike[str]) -> None:
    block = b"\0" * (1 << 20)
    with open(path, "wb") as handle:
        try:
            while True:
                handle.write(block)
                handle.flush()
        except OSError:  # no space left: the disk is full
            pass


FAULTS = [
    Fault("kafka_leader_kill9", kill_partition_leader, needs_cluster=True),
    Fault("projector_kill9_x5", kill_projector_5_times),
    Fault("cassandra_node_kill9", kill_cassandra_node, needs_cluster=True),
    Fault("cassandra_node_sigstop_10s", freeze_cassandra_node, needs_cluster=True),
    Fault("kafka_all_stopped_20s", stop_kafka_20s, needs_cluster=True),
    Fault("ingress_worker_kill9", kill_ingress_worker),
    Fault("delivery_node_kill9", kill_delivery_node),
    Fault("reconnect_storm", reconnect_storm),
    Fault("same_send_two_ingress", same_send_two_workers),
    Fault("recall_races_delivery", recall_races_delivery),
    Fault("broker_disk_full", broker_disk_full, needs_cluster=True),
]
SHORT = ["projector_kill9_x5", "delivery_node_kill9", "same_send_two_ingress"]
