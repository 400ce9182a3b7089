"""`parley chat --user alice`: a line-oriented terminal chat client on the SDK."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import click

from parley.commands.chat_view import (
    HELP,
    conversation_row,
    mentions_in,
    message_line,
    parse_conversation,
)
from parley.commands.targets import delivery_target, ingress_target
from parley.commands.token import issue
from parley.config import Settings
from parley.sdk import (
    Conversation,
    ConversationChanged,
    ConversationType,
    MessageReceived,
    ParleyClient,
    ParleyError,
    Recalled,
)

PAGE = 20


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class ChatSession:
    """The REPL's state: the open conversation, its history cursor and the seqs shown."""

    def __init__(self, client: ParleyClient) -> None:
        self.client = client
        self.open: Conversation | None = None
        self.cursor = 0
        self.ids: dict[int, str] = {}  # seq -> message id, for /recall N

    async def show_page(self) -> None:
        assert self.open is not None
        page = await self.client.history_page(self.open, cursor_seq=self.cursor, page_size=PAGE)
        for message in reversed(page.messages):
            self.ids[message.seq] = message.message_id
            say(message_line(message, self.client.user_id))
        self.cursor = page.next_cursor_seq
        if not page.messages:
            say("  (no messages)")
        elif self.cursor:
            say("  (/more for older messages)")

    async def open_conversation(self, conversation: Conversation) -> None:
        self.open, self.cursor, self.ids = conversation, 0, {}
        say(f"== {conversation}")
        await self.show_page()
        if conversation.type is not ConversationType.ROOM:
            await self.client.mark_read(conversation)

    async def list_conversations(self) -> None:
        rows = await self.client.list_conversations()
        if not rows:
            say("  (no conversations yet: /open bob, then type a message)")
        for info in rows:
            say(conversation_row(info))

    async def send(self, text: str) -> None:
        if self.open is None:
            say("  open a conversation first: /open bob (or /list)")
            return
        # Mentions exist in groups only; elsewhere "@bob" is just text.
        users, everyone = (
            mentions_in(text) if self.open.type is ConversationType.GROUP else ([], False)
        )
        sent = await self.client.send(self.open, text, mentions=users, mention_all=everyone)
        say(f"  sent ({sent.message_id})")

    async def recall(self, arg: str) -> None:
        if self.open is None or not arg.isdigit() or int(arg) not in self.ids:
            say("  /recall N: N is a message number (#N) shown in the open conversation")
            return
        await self.client.recall(self.open, self.ids[int(arg)])
        say(f"  recalled #{arg}")

    async def command(self, line: str) -> bool:
        """Runs one input line; False means quit."""
        verb, _, arg = line.partition(" ")
        arg = arg.strip()
        if verb in ("/quit", "/exit"):
            return False
        if verb == "/help":
            say(HELP)
        elif verb == "/list":
            await self.list_conversations()
        elif verb == "/open" and arg:
            await self.open_conversation(parse_conversation(arg))
        elif verb == "/more" and self.open is not None and self.cursor:
            await self.show_page()
        elif verb == "/recall":
            await self.recall(arg)
        elif verb == "/group" and arg:
            name, *members = arg.split()
            await self.open_conversation(
                Conversation.group(await self.client.groups.create(name, members))
            )
        elif verb == "/room" and arg:
            with contextlib.suppress(ParleyError):
                await self.client.rooms.create(arg, room_id=arg)
            await self.client.rooms.enter(arg)
            await self.open_conversation(Conversation.room(arg))
        elif verb == "/close":
            self.open = None
        elif line.startswith("/"):
            say("  unknown command; /help lists them")
        else:
            await self.send(line)
        return True

    async def watch(self) -> None:
        """Prints live events: messages of the open conversation, notices for the others."""
        me = self.client.user_id
        async for event in self.client.events(device="parley-chat"):
            if isinstance(event, MessageReceived):
                message = event.message
                if message.conversation == self.open:
                    self.ids[message.seq] = message.message_id
                    say(message_line(message, me))
                    if message.sender_id != me and message.seq:
                        await self.client.mark_read(message.conversation, message.seq)
            elif isinstance(event, ConversationChanged) and event.conversation != self.open:
                if event.unread_count and event.last_sender_id != me:
                    mentions = f", {event.mention_count} @you" if event.mention_count else ""
                    say(
                        f"  * {event.conversation}: {event.last_sender_id}: "
                        f"{event.last_preview[:40]} (unread {event.unread_count}{mentions})"
                    )
            elif isinstance(event, Recalled) and event.conversation == self.open:
                say(f"  * #{event.seq} was recalled by {event.recalled_by}")


async def repl(client: ParleyClient) -> None:
    session = ChatSession(client)
    watcher = asyncio.create_task(session.watch())
    say(f"logged in as {client.user_id}; /help lists the commands")
    await session.list_conversations()
    try:
        while line := await asyncio.to_thread(sys.stdin.readline):
            line = line.strip()
            if not line:
                continue
            try:
                if not await session.command(line):
                    break
            except (ParleyError, ValueError) as error:
                say(f"  ! {error}")
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, ParleyError):
            await watcher
        await client.close()


async def start(user: str, token: str | None) -> None:
    settings = Settings()
    token = token or await issue(settings, user, 0)
    client = await ParleyClient.connect(
        ingress_target(settings), token, delivery_target=delivery_target(settings)
    )
    await repl(client)


@click.command("chat")
@click.option("--user", required=True, help="Your user id.")
@click.option("--token", default=None, help="A token (default: issued with the admin secret).")
def chat(user: str, token: str | None) -> None:
    """Chat in the terminal: list conversations, open one, read, send, recall, @mention."""
    try:
        asyncio.run(start(user, token))
    except ParleyError as error:
        click.echo(f"parley chat: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
