"""The projection reducer: one logged event -> state change, read-model row writes and notices."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from parley.domain import events, read_models
from parley.domain.conversations import ConversationType
from parley.domain.log_streams import is_stored
from parley.domain.message_ids import content_digest, fingerprint_of_event
from parley.domain.projection_state import (
    MENTION_ALL_KEPT,
    RECEIPTS_TRACKED,
    ConversationState,
    MemberView,
    MessageRef,
    TrackedReceipt,
)
from parley.domain.projection_step import Projected, Step
from parley.domain.receipts import peer_delivered, record_reader

PREVIEW_CHARS = 64
NO_REFS: Mapping[str, MessageRef] = {}


def project(
    state: ConversationState, logged: events.Logged, refs: Mapping[str, MessageRef] = NO_REFS
) -> Projected:
    """Folds `logged` into `state` (in place) and returns what it wrote.

    The position guard: an event at or below the state's applied offset was folded already and
    changes nothing. `refs` resolves message ids older than the state's recent window (looked up
    by the caller in messages_by_id); it is an input, so this function does no I/O.
    """
    out = Projected()
    offset = logged.position.offset
    if offset <= state.applied_offset:
        return out
    state.partition = logged.position.partition
    state.applied_offset = offset
    if state.dismissed and state.type is ConversationType.ROOM:
        return out  # a dismissed room keeps nothing
    handler = _HANDLERS.get(type(logged.event.payload))
    if handler is not None:
        handler(Step(state, logged.event, offset, refs, out), logged.event.payload)
    return out


def preview_of(payload: events.MessageSent) -> str:
    content = payload.content
    if isinstance(content, events.TextContent):
        return content.text[:PREVIEW_CHARS]
    if isinstance(content, events.CustomContent):
        return content.searchable_content[:PREVIEW_CHARS]
    return ""


def _sent(step: Step, p: events.MessageSent) -> None:
    s, e = step.state, step.event
    if not is_stored(e) or p.message_id in s.recent:
        return  # never stored, or a duplicate append of the same send
    seq = s.last_seq = s.last_seq + 1
    group = s.type is ConversationType.GROUP
    s.remember(
        p.message_id, MessageRef(seq, e.actor, p.receipt_requested and group, e.server_time_ms)
    )
    h = s.head
    h.message_id, h.sender_id, h.message_type = p.message_id, e.actor, int(p.type)
    h.preview, h.recalled, h.activity_ms = preview_of(p), False, e.server_time_ms
    step.out.writes += [
        read_models.HistoryRow.of_sent(e, p, seq, step.offset),
        read_models.MessageByIdRow(
            p.message_id,
            s.key,
            seq,
            e.actor,
            e.server_time_ms,
            step.offset,
            p.masked,
            content_digest(p.content),
            fingerprint_of_event(e),
            p.receipt_requested,
            step.offset,
        ),
    ]
    step.write_head()
    if s.type is ConversationType.ROOM:
        return  # rooms keep history only: no unread, mentions or receipts
    _mentions(step, p, seq)
    if p.receipt_requested and group:
        s.receipts[seq] = TrackedReceipt(p.message_id, e.actor)
        while len(s.receipts) > RECEIPTS_TRACKED:
            s.receipts.popitem(last=False)
    sender = s.members.get(e.actor)
    if sender is not None and sender.is_member:
        step.move_read(e.actor, seq, own_seq=seq)
        step.write_user(e.actor, notify=False)
    if seq == 1 and s.type is ConversationType.PEER:
        # Group members got their rows when they joined; a peer conversation's recipient has
        # none until now, and their inbox must list it from the first message on.
        for user, view in s.members.items():
            if user != e.actor and view.is_member:
                step.write_user(user, notify=False)
    step.notify_members()


def _mentions(step: Step, p: events.MessageSent, seq: int) -> None:
    s, sender = step.state, step.event.actor
    for user in dict.fromkeys(p.mentioned_user_ids):
        view = s.members.get(user)
        if user != sender and view is not None and view.is_member:
            s.mentions.setdefault(user, []).append(seq)
            step.out.writes.append(
                read_models.MentionRow(user, s.key, seq, p.message_id, sender, step.offset)
            )
    if p.mention_all and s.type is ConversationType.GROUP:
        s.mention_all.append((seq, sender))
        del s.mention_all[:-MENTION_ALL_KEPT]
        step.out.writes.append(
            read_models.MentionAllRow(s.key, seq, p.message_id, sender, step.offset)
        )


def _recalled(step: Step, p: events.MessageRecalled) -> None:
    s, ref = step.state, step.ref(p.message_id)
    if ref is None:
        return
    step.out.writes += [
        read_models.HistoryRecalled(
            s.key, ref.seq, step.event.actor, step.event.server_time_ms, step.offset
        ),
        read_models.MessageByIdRecalled(p.message_id, step.offset),
    ]
    for user, seqs in s.mentions.items():
        if ref.seq in seqs:
            seqs.remove(ref.seq)
            step.out.writes.append(read_models.MentionDeleted(user, s.key, ref.seq))
    if any(q == ref.seq for q, _ in s.mention_all):
        s.mention_all = [(q, who) for q, who in s.mention_all if q != ref.seq]
        step.out.writes.append(read_models.MentionAllDeleted(s.key, ref.seq))
    if ref.seq == s.last_seq:
        s.head.recalled, s.head.preview = True, ""
        step.write_head()
    step.notify_members()


def _delivered(step: Step, p: events.MessageDelivered) -> None:
    ref = step.ref(p.message_id)
    if ref is None or step.state.type is not ConversationType.PEER:
        return
    notices = peer_delivered(step.state, step.event.actor, p.message_id, ref, step.offset)
    if notices:
        step.out.notices += notices
        step.write_user(step.event.actor, notify=False)


def _message_read(step: Step, p: events.MessageRead) -> None:
    s, actor, ref = step.state, step.event.actor, step.ref(p.message_id)
    view = s.members.get(actor)
    if ref is None or view is None or not view.is_member:
        return
    if s.type is ConversationType.PEER:
        if step.move_read(actor, ref.seq):
            step.write_user(actor)
        return
    rows, notices = record_reader(s, ref.seq, actor, step.event.server_time_ms, step.offset)
    step.out.writes += rows
    step.out.notices += notices


def _conversation_read(step: Step, p: events.ConversationRead) -> None:
    s, actor = step.state, step.event.actor
    view = s.members.get(actor)
    if view is None or not view.is_member:
        return
    target = s.last_seq if p.up_to_seq == 0 else min(p.up_to_seq, s.last_seq)
    if step.move_read(actor, target):
        step.write_user(actor)


def _deleted(step: Step, p: events.ConversationDeleted) -> None:
    s, actor = step.state, step.event.actor
    view = s.members.get(actor)
    if view is None:
        return
    if view.is_member:
        step.move_read(actor, s.last_seq)
    view.hidden_through_seq = s.last_seq
    if p.delete_history:
        view.cleared_through_seq = max(view.cleared_through_seq, s.last_seq)
    step.write_user(actor)


def _join(step: Step, users: tuple[str, ...]) -> None:
    s = step.state
    for user in dict.fromkeys(users):
        view = s.members.get(user)
        if view is not None and view.is_member:
            continue
        old = view or MemberView()
        # A (re)joining member starts at the present: nothing before counts as unread.
        s.members[user] = MemberView(
            read_seq=s.last_seq,
            delivered_seq=old.delivered_seq,
            joined_seq=s.last_seq,
            hidden_through_seq=old.hidden_through_seq,
            cleared_through_seq=old.cleared_through_seq,
        )
        s.mentions.pop(user, None)
        step.write_user(user)


def _group_created(step: Step, p: events.GroupCreated) -> None:
    if step.state.members:
        return  # a duplicate creation
    step.state.head.activity_ms = step.event.server_time_ms
    step.state.head.title = p.name
    step.write_head()
    _join(step, (p.owner_id, *p.member_ids))


def _members_removed(step: Step, p: events.GroupMembersRemoved) -> None:
    for user in dict.fromkeys(p.user_ids):
        view = step.state.members.get(user)
        if view is not None and view.is_member:
            view.until_seq = step.state.last_seq
            step.write_user(user)


def _dismissed(step: Step, _: Any) -> None:
    s = step.state
    s.dismissed = True
    if s.type is ConversationType.ROOM:
        s.recent.clear()
        step.out.writes.append(read_models.HistoryErased(s.key))
    step.write_head()
    step.notify_members()


def _room_created(step: Step, p: events.RoomCreated) -> None:
    step.state.head.activity_ms = step.event.server_time_ms
    step.state.head.title = p.name
    step.write_head()


_HANDLERS: dict[type, Callable[[Step, Any], None]] = {
    events.MessageSent: _sent,
    events.MessageRecalled: _recalled,
    events.MessageDelivered: _delivered,
    events.MessageRead: _message_read,
    events.ConversationRead: _conversation_read,
    events.ConversationDeleted: _deleted,
    events.GroupCreated: _group_created,
    events.GroupMembersAdded: lambda step, p: _join(step, p.user_ids),
    events.GroupMembersRemoved: _members_removed,
    events.GroupDismissed: _dismissed,
    events.RoomCreated: _room_created,
    events.RoomDismissed: _dismissed,
}


def projects(event: events.Event) -> bool:
    """Whether events of this kind change a read model. The others (uploads, mutes, blocks,
    room entries, broadcasts: other services fold those) are passed over without loading or
    storing the state of their conversation; the projector's position still moves past them."""
    return type(event.payload) in _HANDLERS
