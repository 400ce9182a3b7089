"""The quickstart: `make run` on a clean state, two users talk, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from faults.probes import is_serving
from parley.sdk import (
    Conversation,
    ConversationInfo,
    Event,
    GroupMessage,
    PeerMessage,
    Synced,
)
from tests.e2e.conftest import connect_user, stack_of
from tests.e2e.waiting import Inbox, eventually

pytestmark = pytest.mark.integration


def text_of(event: Event) -> str:
    return event.message.text if isinstance(event, PeerMessage | GroupMessage) else ""


def row(rows: list[ConversationInfo], conversation: Conversation) -> ConversationInfo | None:
    return next((r for r in rows if r.conversation == conversation), None)


async def test_quickstart__peer_and_group_exchange_then_clean_stop(
    tmp_path: Path, engines: Any
) -> None:
    # Started exactly as the README says (`make run`), stopped as a person would (Ctrl-C).
    with stack_of(tmp_path, engines, as_in_readme=True) as stack:
        # Two users connect; bob keeps a live session open.
        alice = await connect_user(stack, "alice")
        bob = await connect_user(stack, "bob")
        inbox = Inbox(bob)
        await inbox.wait_for(lambda e: isinstance(e, Synced))

        # Peer: alice sends, a retry with the same client message id is the same message.
        sent = await alice.send(Conversation.peer("bob"), "hello bob", client_message_id="qs-1")
        again = await alice.send(Conversation.peer("bob"), "hello bob", client_message_id="qs-1")
        assert (again.message_id, again.duplicate) == (sent.message_id, True)
        live = await inbox.wait_for(lambda e: text_of(e) == "hello bob")
        assert isinstance(live, PeerMessage) and live.message.sender_id == "alice"

        # Group: alice creates it with bob and mentions him; bob gets it live.
        group = Conversation.group(await alice.groups.create("team", ["bob"]))
        await alice.send(group, "hi team @bob", mentions=["bob"])
        live_group = await inbox.wait_for(lambda e: text_of(e) == "hi team @bob")
        assert isinstance(live_group, GroupMessage) and live_group.message.seq == 1

        # The read models: bob sees unread and the mention, then reads the group.
        rows = await eventually(
            bob.list_conversations,
            lambda rs: (r := row(rs, group)) is not None and r.unread_count == 1,
        )
        assert [m.sender_id for m in row(rows, group).mentions] == ["alice"]  # type: ignore[union-attr]
        await bob.mark_read(group)
        await eventually(bob.list_conversations, lambda rs: row(rs, group).unread_count == 0)  # type: ignore[union-attr]

        # Bob answers; both see the peer history in order, with one copy of the retried send.
        await bob.send(Conversation.peer("alice"), "hi alice")
        page = await eventually(
            lambda: alice.history_page(Conversation.peer("bob"), oldest_first=True),
            lambda p: len(p.messages) == 2,
        )
        assert [(m.seq, m.sender_id, m.text) for m in page.messages] == [
            (1, "alice", "hello bob"),
            (2, "bob", "hi alice"),
        ]
        await inbox.close()
        await alice.close()
        await bob.close()

        # Ctrl-C: every process of the run exits, nothing listens any more.
        leftover = stack.stop()
        assert leftover == set()
        # make dies of the SIGINT itself, as after Ctrl-C in a terminal; what matters is that
        # every process `parley run` started is gone (above).
        assert stack.process.returncode in (0, -signal.SIGINT), stack.log_tail()
        assert not any(is_serving(t) for t in (stack.ingress, stack.delivery, stack.media))
