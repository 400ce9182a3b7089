"""Steady client load through the SDK, recording what every client was told and received.

Each user sends text to a peer, the group and the room (some with mentions), recalls some of
its own messages at once (racing their delivery), reads and acknowledges, and keeps one session
open to delivery. A send the SDK gave up on is sent again later with the same client message
id, as an app does; only a send that got an answer counts as acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from dataclasses import dataclass, field

from parley.adapters.tokens import TokenAuthority
from parley.config import Settings
from parley.sdk import ParleyClient
from parley.sdk.errors import ParleyError
from parley.sdk.events import MessageReceived
from parley.sdk.types import Conversation


@dataclass
class Send:
    """One send as its client saw it."""

    fault: str
    sender: str
    conversation: Conversation
    client_message_id: str
    mentions: tuple[str, ...] = ()
    message_id: str = ""  # set once acknowledged
    conversation_key: str = ""
    attempts: int = 0
    recalled: bool = False


@dataclass
class Record:
    """Everything the clients recorded: sends, and per user each message its sessions got."""

    sends: list[Send] = field(default_factory=list)
    received: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def acked(self, fault: str | None = None) -> list[Send]:
        return [s for s in self.sends if s.message_id and fault in (None, s.fault)]


class Load:
    """`users` clients; `fault` names the window the next sends belong to."""

    def __init__(
        self, settings: Settings, ingress: list[str], delivery: str, users: int, rate: float
    ) -> None:
        self.authority = TokenAuthority(settings.token_secret)
        self.ingress, self.delivery = ingress, delivery
        run = uuid.uuid4().hex[:4]
        self.users = [f"u{run}{i}" for i in range(users)]
        self.group = f"g{run}"
        self.room = f"r{run}"
        self.rate = rate  # sends per second per user
        self.fault = "warmup"
        self.hit = asyncio.Event()  # set by a fault at the moment it strikes
        self.record = Record()
        self.clients: dict[str, ParleyClient] = {}
        self._senders: list[asyncio.Task[None]] = []
        self._sessions: dict[str, asyncio.Task[None]] = {}
        self._pending: list[Send] = []
        self._running = False

    def token(self, user: str) -> str:
        return self.authority.issue(user)[0]

    async def client(self, user: str, index: int) -> ParleyClient:
        # Half the clients list the second ingress first: both workers take load, and a
        # client of a killed worker moves to the other one.
        order = self.ingress if index % 2 == 0 else self.ingress[::-1]
        return await ParleyClient.connect(
            "ipv4:" + ",".join(order), self.token(user), delivery_target=self.delivery
        )

    async def start(self) -> None:
        for index, user in enumerate(self.users):
            self.clients[user] = await self.client(user, index)
            self.record.received[user] = []
        owner = self.clients[self.users[0]]
        await owner.groups.create("faults", self.users[1:], group_id=self.group)
        await owner.rooms.create("faults", room_id=self.room)
        for user in self.users[1:]:
            await self.clients[user].rooms.enter(self.room)
        for user in self.users:
            self._sessions[user] = asyncio.create_task(self._session(user))
        self.resume()

    def resume(self) -> None:
        self._running = True
        self._senders = [asyncio.create_task(self._sender(user)) for user in self.users]

    async def pause(self) -> None:
        """Stops sending, then resends every unanswered send until it is answered."""
        self._running = False
        for task in self._senders:
            task.cancel()
        for task in self._senders:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        deadline = time.monotonic() + 120
        while self._pending and time.monotonic() < deadline:
            await self._resend_pending()
            await asyncio.sleep(0.5)

    async def reconnect_all(self) -> None:
        """Every session drops and reconnects at the same moment, resuming from its positions."""
        old = {user: self.clients[user].events() for user in self.users}
        for user in self.users:
            self._sessions[user].cancel()
            await old[user].close()
            self.clients[user]._stream = None  # the SDK keeps one stream per client
        for user in self.users:
            fresh = self.clients[user].events(device="faults")
            fresh.positions = dict(old[user].positions)
            fresh._resume = True
            self._sessions[user] = asyncio.create_task(self._session(user))

    async def close(self) -> None:
        for task in [*self._senders, *self._sessions.values()]:
            task.cancel()
        for client in self.clients.values():
            await client.close()

    async def _session(self, user: str) -> None:
        received = self.record.received[user]
        async for event in self.clients[user].events(device="faults"):
            if isinstance(event, MessageReceived) and event.message.seq > 0:
                m = event.message
                received.append((m.conversation_key, m.seq, m.message_id))

    def _conversation(self, user: str, rng: random.Random) -> Conversation:
        roll = rng.random()
        if roll < 0.4:
            return Conversation.peer(rng.choice([u for u in self.users if u != user]))
        return Conversation.group(self.group) if roll < 0.8 else Conversation.room(self.room)

    async def _sender(self, user: str) -> None:
        rng = random.Random(user)
        client = self.clients[user]
        while self._running:
            await asyncio.sleep(rng.expovariate(self.rate))
            conversation = self._conversation(user, rng)
            mentions: tuple[str, ...] = ()
            if conversation.type.name == "GROUP" and rng.random() < 0.3:
                mentions = (rng.choice(self.users[1:]),)
            send = Send(self.fault, user, conversation, uuid.uuid4().hex, mentions)
            self.record.sends.append(send)
            await self._attempt(send)
            if send.message_id and rng.random() < 0.1:
                await self._quietly(client.recall(conversation, send.message_id))
                send.recalled = True
            elif rng.random() < 0.2:
                await self._quietly(client.mark_read(conversation))
            if self._pending and rng.random() < 0.3:
                await self._resend_pending()

    async def _attempt(self, send: Send) -> None:
        """The SDK's send with its own retries; an unanswered send waits for a resend."""
        client = self.clients[send.sender]
        send.attempts += 1
        try:
            sent = await client.send(
                send.conversation,
                f"{send.fault} {send.client_message_id}",
                client_message_id=send.client_message_id,
                mentions=send.mentions,
                retry=send.attempts > 1,
            )
        except ParleyError as error:
            self._count(error)
            # Whatever the failure, the app does not know whether the send was written: it
            # sends again with the same id until it gets an answer.
            if send not in self._pending:
                self._pending.append(send)
            return
        send.message_id, send.conversation_key = sent.message_id, sent.conversation_key
        if send in self._pending:
            self._pending.remove(send)

    async def _resend_pending(self) -> None:
        for send in list(self._pending):
            await self._attempt(send)

    async def _quietly(self, call: object) -> None:
        try:
            await call  # type: ignore[misc]
        except ParleyError as error:
            self._count(error)

    def _count(self, error: ParleyError) -> None:
        key = f"{error.status}/{error.reason_name}"
        self.record.errors[key] = self.record.errors.get(key, 0) + 1
