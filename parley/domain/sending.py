"""The send pipeline's decisions: idempotency, validation, permissions, rate limit, moderation."""

from __future__ import annotations

from dataclasses import replace

from parley.domain.commands import SendCommand, SendReceipt, Stamp
from parley.domain.content import (
    check_content,
    check_ext,
    check_mentions,
    check_reply_to,
    check_type_allowed,
)
from parley.domain.conversations import Conversation, ConversationType, check_id
from parley.domain.errors import Reason, Rejected
from parley.domain.events import Event, MessageSent, MessageType, Position, type_of
from parley.domain.limits import Limits
from parley.domain.media_access import resolve_content
from parley.domain.media_objects import NOTHING_ARCHIVED, ArchivedMedia
from parley.domain.message_archive import NO_ARCHIVED_MESSAGES, ArchivedMessages
from parley.domain.message_ids import (
    check_client_message_id,
    fingerprint,
    fingerprint_of_event,
    message_id_for,
    normalised_payload,
)
from parley.domain.moderation import InterceptorChain
from parley.domain.rate_limit import RateLimiter
from parley.domain.write_model import WriteModel, receipt_of


class SendDecider:
    """Turns a SendCommand into the event to append, the receipt of an earlier identical send,
    or a Rejected. Nothing is written here: the caller appends the event, then calls `record`.

    Two identical sends racing through `prepare` before either is recorded may both be
    appended; both carry the same event id (the message id), so every consumer keeps one, and
    `record` answers the later one with the first one's receipt.
    """

    def __init__(
        self,
        model: WriteModel,
        limits: Limits,
        rate_limiter: RateLimiter,
        interceptors: InterceptorChain,
    ) -> None:
        self._model = model
        self._limits = limits
        self._rate_limiter = rate_limiter
        self._interceptors = interceptors

    def prepare(
        self,
        cmd: SendCommand,
        stamp: Stamp,
        *,
        bypass_rate_limit: bool = False,
        archived_messages: ArchivedMessages = NO_ARCHIVED_MESSAGES,
        archived: ArchivedMedia = NOTHING_ARCHIVED,
    ) -> Event | SendReceipt:
        """`archived`: what the caller read from the media archive about the objects the
        content names that the media registry does not hold (parley.media_lookup)."""
        # `archived_messages`: what the caller read from the message archive (parley.
        # message_lookup): the message this client message id made before the ledger's window.
        earlier = self._earlier_receipt(cmd, archived_messages)
        if earlier is not None:
            return earlier
        event = self._validated(cmd, stamp, archived, archived_messages)
        if not bypass_rate_limit and type_of(cmd.content) is not MessageType.BARRAGE:
            self._rate_limiter.check(cmd.sender, stamp.now_ms)
        intercepted = self._interceptors.run(event)
        if isinstance(intercepted.payload, MessageSent):
            # An interceptor may rewrite content; the result must still fit the limits.
            check_content(intercepted.payload.content, self._limits)
        return intercepted

    def record(self, event: Event, position: Position) -> SendReceipt:
        """Puts an appended send into the ledger and the message index at once, before the log
        follower brings it back, so an immediate retry or recall already finds it."""
        kept = self._model.apply_event(event, position.offset)
        if kept is None:
            raise ValueError("record takes the MessageSent event of a send with a client id")
        return kept if kept == receipt_of(event, position.offset) else replace(kept, duplicate=True)

    def _earlier_receipt(self, cmd: SendCommand, archived: ArchivedMessages) -> SendReceipt | None:
        """The receipt of the first send with this client message id: from the ledger within
        its window, from the archive after (stored messages only; a command or barrage retried
        that late is a new send)."""
        entry = self._model.sends.lookup(cmd.sender, cmd.client_message_id)
        if entry is not None:
            kept, receipt = entry.fingerprint, replace(entry.receipt, duplicate=True)
        else:
            older = archived.get(message_id_for(cmd.sender, cmd.client_message_id))
            if older is None or older.sender_id != cmd.sender:
                return None
            kept, receipt = older.fingerprint, older.receipt
        self.check_same_send(cmd, kept)
        return receipt

    def check_same_send(self, cmd: SendCommand, kept: str) -> None:
        """The one conflict rule: a send reusing a client message id must be the send that id
        made (`kept`: the fingerprint of the event appended for it, after moderation), or it
        is CLIENT_MESSAGE_ID_CONFLICT."""
        if kept == fingerprint(cmd) or self._is_same_after_moderation(cmd, kept):
            return
        raise Rejected(
            Reason.CLIENT_MESSAGE_ID_CONFLICT,
            "this client message id was already used for a different message",
        )

    def _is_same_after_moderation(self, cmd: SendCommand, recorded: str) -> bool:
        # The ledger fingerprints the event as appended, after masking or other interceptors;
        # running them again on the retry recognises it (they are pure and deterministic).
        conversation = Conversation.for_request(cmd.conversation_type, cmd.target_id, cmd.sender)
        try:
            candidate = self._interceptors.run(_event_of(cmd, conversation, Stamp(0, "")))
        except Rejected:
            return False
        return fingerprint_of_event(candidate) == recorded

    def _validated(
        self,
        cmd: SendCommand,
        stamp: Stamp,
        archived: ArchivedMedia,
        archived_messages: ArchivedMessages,
    ) -> Event:
        """Every rule of a send, in the documented order; the event it becomes."""
        check_id(cmd.sender, "sender id")
        check_client_message_id(cmd.client_message_id, self._limits.client_message_id_max)
        conversation = Conversation.for_request(cmd.conversation_type, cmd.target_id, cmd.sender)
        check_type_allowed(cmd.content, conversation.type)
        check_content(cmd.content, self._limits)
        check_mentions(cmd.mentioned_user_ids, cmd.mention_all, conversation.type, self._limits)
        check_ext(cmd.ext, self._limits)
        check_reply_to(cmd.reply_to_message_id)
        self._model.directory.check_can_send(conversation, cmd.sender, stamp.now_ms)
        # Uploaded media gets its server-side description; the fingerprint ignores it.
        content = resolve_content(cmd.content, cmd.sender, self._model, archived, archived_messages)
        return _event_of(replace(cmd, content=content), conversation, stamp)


def _event_of(cmd: SendCommand, conversation: Conversation, stamp: Stamp) -> Event:
    recipient = (
        conversation.peer_of(cmd.sender) if conversation.type is ConversationType.PEER else ""
    )
    payload = normalised_payload(cmd, recipient)
    # The event id is the message id, so a duplicate append is recognisable everywhere.
    return stamp.event(
        conversation,
        cmd.sender,
        payload,
        event_id=payload.message_id,
        client_message_id=cmd.client_message_id,
    )
