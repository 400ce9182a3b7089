"""What `parley chat` prints and parses: conversation names, message lines, list rows, @mentions."""

from __future__ import annotations

import re
import time

from parley.sdk import Conversation, ConversationInfo, ConversationType, Message

MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]+)")
_KINDS = {kind.name.lower(): kind for kind in ConversationType}


def parse_conversation(text: str) -> Conversation:
    """ "peer:bob", "group:g1", "room:r1", or a bare user id for a peer conversation."""
    kind, sep, ident = text.strip().partition(":")
    if not sep:
        return Conversation.peer(kind)
    if kind not in _KINDS or not ident:
        raise ValueError(f"not a conversation: {text!r} (try peer:bob, group:ID, room:ID)")
    return Conversation(_KINDS[kind], ident)


def mentions_in(text: str) -> tuple[list[str], bool]:
    """User ids mentioned with @id, and whether @all was used."""
    names = MENTION.findall(text)
    return sorted({n for n in names if n != "all"}), "all" in names


def clock(ms: int) -> str:
    return time.strftime("%H:%M", time.localtime(ms / 1000)) if ms else "--:--"


def message_line(message: Message, me: str) -> str:
    who = "me" if message.sender_id == me else message.sender_id
    mark = " @you" if me in message.mentioned_user_ids or message.mention_all else ""
    return f"  #{message.seq:<4} {clock(message.sent_at_ms)} {who}: {message.text}{mark}"


def conversation_row(info: ConversationInfo) -> str:
    mentions = f"  @{len(info.mentions)}" if info.mentions else ""
    preview = "(recalled)" if info.last_recalled else info.last_preview
    title = f"{info.name} ({info.conversation})" if info.name else str(info.conversation)
    return (
        f"  {title:<28} unread {info.unread_count}{mentions}"
        f"  {clock(info.last_activity_ms)} {info.last_sender_id}: {preview[:40]}"
    )


HELP = """commands:
  /list                 your conversations with unread counts (@N: unread mentions)
  /open CONV            open peer:bob | group:ID | room:ID | bob; shows the last messages
  /more                 older messages of the open conversation
  /recall N             recall your message #N in the open conversation
  /group NAME U1 U2...  create a group with these members and open it
  /room ID              enter (or create) a room and open it
  /close                leave the open conversation
  /quit                 exit
  anything else         is sent to the open conversation; @bob mentions bob, @all everyone"""
