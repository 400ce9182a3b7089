"""Reason codes: the one stable, documented vocabulary of every rejection Parley returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Reason(IntEnum):
    """Mirrors parley.v1.ReasonCode; the numbers never change meaning."""

    TOKEN_MISSING = 1001
    TOKEN_EXPIRED = 1002
    TOKEN_INVALID = 1003
    ADMIN_CREDENTIAL_REQUIRED = 1004
    BAD_PARAMETER = 2001
    SEND_TO_SELF = 2002
    MESSAGE_TOO_LARGE = 2003
    TOO_MANY_MENTIONS = 2004
    TYPE_NOT_ALLOWED = 2005
    CLIENT_MESSAGE_ID_CONFLICT = 2006
    RATE_LIMITED = 2007
    SENSITIVE_WORD = 3001
    INTERCEPTOR_REJECTED = 3002
    SEND_HOOK_REJECTED = 3003
    NOT_A_MEMBER = 4001
    GROUP_NOT_FOUND = 4002
    GROUP_DISMISSED = 4003
    BLOCKED_BY_PEER = 4004
    MUTED = 4005
    NOT_ON_WHITELIST = 4006
    ROOM_NOT_FOUND = 4007
    NOT_GROUP_ADMIN = 4008
    ALREADY_EXISTS = 4009
    NOT_GROUP_OWNER = 4010
    CONVERSATION_NOT_FOUND = 4011
    RECALL_WINDOW_EXPIRED = 5001
    RECALL_NOT_PERMITTED = 5002
    MESSAGE_NOT_FOUND = 5003
    ALREADY_RECALLED = 5004
    MEDIA_NOT_FOUND = 6001
    MEDIA_TOO_LARGE = 6002
    MEDIA_TYPE_UNSUPPORTED = 6003
    MEDIA_DURATION_EXCEEDED = 6004
    MEDIA_KIND_MISMATCH = 6005
    TOO_MANY_ITEMS = 6006
    TOO_MANY_IMAGES = 6007
    DUPLICATE_ITEM_KIND = 6008
    ITEM_TYPE_NOT_ALLOWED = 6009
    MEDIA_ACCESS_DENIED = 6010
    MEDIA_RECALLED = 6011
    RENDITION_UNAVAILABLE = 6012
    EVENT_LOG_UNAVAILABLE = 9001
    MEDIA_STORE_UNAVAILABLE = 9002
    MEDIA_SERVER_BUSY = 9003
    READ_MODELS_UNAVAILABLE = 9004
    SEND_HOOK_UNAVAILABLE = 9005


@dataclass(frozen=True)
class ReasonInfo:
    """How a reason reaches the client: the gRPC status name and what the client should do."""

    status: str
    meaning: str
    client_action: str


REASONS: dict[Reason, ReasonInfo] = {
    Reason.TOKEN_MISSING: ReasonInfo(
        "UNAUTHENTICATED", "No bearer token in the call metadata.", "Log in and send the token."
    ),
    Reason.TOKEN_EXPIRED: ReasonInfo(
        "UNAUTHENTICATED", "The token's expiry time has passed.", "Fetch a new token, retry."
    ),
    Reason.TOKEN_INVALID: ReasonInfo(
        "UNAUTHENTICATED", "The token is malformed or its signature is wrong.", "Log in again."
    ),
    Reason.ADMIN_CREDENTIAL_REQUIRED: ReasonInfo(
        "PERMISSION_DENIED", "The admin API needs the admin secret.", "Call from a trusted service."
    ),
    Reason.BAD_PARAMETER: ReasonInfo(
        "INVALID_ARGUMENT", "A field is missing or malformed.", "Fix the request; do not retry."
    ),
    Reason.SEND_TO_SELF: ReasonInfo(
        "INVALID_ARGUMENT", "A peer message addressed to its own sender.", "Pick another peer."
    ),
    Reason.MESSAGE_TOO_LARGE: ReasonInfo(
        "INVALID_ARGUMENT", "The content exceeds its type's size limit.", "Shorten or split it."
    ),
    Reason.TOO_MANY_MENTIONS: ReasonInfo(
        "INVALID_ARGUMENT", "More than 50 mentioned user ids.", "Mention fewer, or mention all."
    ),
    Reason.TYPE_NOT_ALLOWED: ReasonInfo(
        "INVALID_ARGUMENT",
        "This message type is not allowed in this conversation type (barrage outside a room).",
        "Use a type the conversation accepts.",
    ),
    Reason.CLIENT_MESSAGE_ID_CONFLICT: ReasonInfo(
        "ALREADY_EXISTS",
        "The client message id was already used for a different message.",
        "Use a fresh client message id for a new message.",
    ),
    Reason.RATE_LIMITED: ReasonInfo(
        "RESOURCE_EXHAUSTED",
        "More than 10 rate-limited messages in a second.",
        "Wait the google.rpc.RetryInfo delay (Rejection.retry_delay in a stream), then retry "
        "with the same client message id.",
    ),
    Reason.SENSITIVE_WORD: ReasonInfo(
        "PERMISSION_DENIED", "The content contains a blocked word.", "Change the content."
    ),
    Reason.INTERCEPTOR_REJECTED: ReasonInfo(
        "PERMISSION_DENIED", "A custom send interceptor rejected the message.", "See the message."
    ),
    Reason.SEND_HOOK_REJECTED: ReasonInfo(
        "PERMISSION_DENIED",
        "The operator's pre-send hook refused the message; the status message is the hook's "
        "reason. Nothing was written.",
        "Show the reason; change the message before sending it again.",
    ),
    Reason.NOT_A_MEMBER: ReasonInfo(
        "PERMISSION_DENIED", "The sender is not a member of the group or room.", "Join first."
    ),
    Reason.GROUP_NOT_FOUND: ReasonInfo(
        "NOT_FOUND", "No group with this id exists.", "Check the id."
    ),
    Reason.GROUP_DISMISSED: ReasonInfo(
        "FAILED_PRECONDITION", "The group was dismissed.", "Remove it from the UI."
    ),
    Reason.BLOCKED_BY_PEER: ReasonInfo(
        "PERMISSION_DENIED", "The recipient has blocked the sender.", "Do not retry."
    ),
    Reason.MUTED: ReasonInfo(
        "PERMISSION_DENIED", "The sender or the whole group is muted.", "Wait for the mute to end."
    ),
    Reason.NOT_ON_WHITELIST: ReasonInfo(
        "PERMISSION_DENIED",
        "The group only lets whitelisted members send.",
        "Ask an admin to whitelist the sender.",
    ),
    Reason.ROOM_NOT_FOUND: ReasonInfo(
        "NOT_FOUND", "No room with this id exists, or it was dismissed.", "Check the id."
    ),
    Reason.NOT_GROUP_ADMIN: ReasonInfo(
        "PERMISSION_DENIED", "Only the owner or an admin may do this.", "Ask an admin."
    ),
    Reason.ALREADY_EXISTS: ReasonInfo(
        "ALREADY_EXISTS", "A group or room with this id already exists.", "Pick another id."
    ),
    Reason.NOT_GROUP_OWNER: ReasonInfo(
        "PERMISSION_DENIED", "Only the group owner (or room creator) may do this.", "Ask them."
    ),
    Reason.CONVERSATION_NOT_FOUND: ReasonInfo(
        "NOT_FOUND",
        "The caller has no such conversation: nothing was ever sent in it (a peer conversation "
        "with yourself never exists).",
        "Send a first message, or check the id.",
    ),
    Reason.RECALL_WINDOW_EXPIRED: ReasonInfo(
        "FAILED_PRECONDITION", "The recall window has passed.", "Do not retry."
    ),
    Reason.RECALL_NOT_PERMITTED: ReasonInfo(
        "PERMISSION_DENIED", "Only the sender or a group owner/admin may recall.", "Do not retry."
    ),
    Reason.MESSAGE_NOT_FOUND: ReasonInfo(
        "NOT_FOUND", "No such message in this conversation.", "Check the ids."
    ),
    Reason.ALREADY_RECALLED: ReasonInfo(
        "FAILED_PRECONDITION", "The message was already recalled.", "Nothing to do."
    ),
    Reason.MEDIA_NOT_FOUND: ReasonInfo(
        "NOT_FOUND",
        "No validated upload with this object id that the caller may use.",
        "Upload the file (again) and use the object id it returns.",
    ),
    Reason.MEDIA_TOO_LARGE: ReasonInfo(
        "INVALID_ARGUMENT",
        "The file exceeds its type's size limit (image 10 MiB, audio 6 MiB, file and video "
        "100 MiB).",
        "Compress it, or send it as a file if that limit is larger.",
    ),
    Reason.MEDIA_TYPE_UNSUPPORTED: ReasonInfo(
        "INVALID_ARGUMENT",
        "The content is not a format this type accepts (image: JPG PNG BMP TIFF GIF WebP; "
        "audio: MP3 M4A; video: MP4 MOV), whatever its file name says.",
        "Convert it, or send it as a file.",
    ),
    Reason.MEDIA_DURATION_EXCEEDED: ReasonInfo(
        "INVALID_ARGUMENT", "The audio is longer than 300 seconds.", "Shorten or split it."
    ),
    Reason.MEDIA_KIND_MISMATCH: ReasonInfo(
        "INVALID_ARGUMENT",
        "The message type differs from the kind the object was uploaded as.",
        "Send the object in a message of the type it was uploaded as.",
    ),
    Reason.TOO_MANY_ITEMS: ReasonInfo(
        "INVALID_ARGUMENT", "A composite message has more than 20 items.", "Split it."
    ),
    Reason.TOO_MANY_IMAGES: ReasonInfo(
        "INVALID_ARGUMENT", "A composite message has more than 10 images.", "Split it."
    ),
    Reason.DUPLICATE_ITEM_KIND: ReasonInfo(
        "INVALID_ARGUMENT",
        "A composite message has more than one file, audio, video or custom item.",
        "Keep one of each; split the rest.",
    ),
    Reason.ITEM_TYPE_NOT_ALLOWED: ReasonInfo(
        "INVALID_ARGUMENT",
        "A composite item is not text, image, file, audio, video or custom.",
        "Send that content as its own message.",
    ),
    Reason.MEDIA_ACCESS_DENIED: ReasonInfo(
        "PERMISSION_DENIED",
        "The caller cannot read any message carrying this media.",
        "Do not retry.",
    ),
    Reason.MEDIA_RECALLED: ReasonInfo(
        "FAILED_PRECONDITION",
        "The message carrying this media was recalled; its media is no longer served.",
        "Remove it from the UI.",
    ),
    Reason.RENDITION_UNAVAILABLE: ReasonInfo(
        "NOT_FOUND",
        "This media has no such rendition (thumbnail and large: images; first frame: videos).",
        "Ask for the original or a rendition the type has.",
    ),
    Reason.EVENT_LOG_UNAVAILABLE: ReasonInfo(
        "UNAVAILABLE",
        "The event log (Kafka) did not acknowledge the write: not accepted, outcome unknown "
        "(a write in flight when Kafka went down may still land a moment later).",
        "Retry with the same client message id (never a second message) or ask GetSendStatus.",
    ),
    Reason.MEDIA_STORE_UNAVAILABLE: ReasonInfo(
        "UNAVAILABLE",
        "The media store (MinIO) did not answer; nothing was stored or served.",
        "Retry the upload or download.",
    ),
    Reason.MEDIA_SERVER_BUSY: ReasonInfo(
        "RESOURCE_EXHAUSTED",
        "The media server has no room to stage another upload now (its staging budget or "
        "space is taken by uploads in flight); nothing was stored.",
        "Retry the upload in a few seconds.",
    ),
    Reason.READ_MODELS_UNAVAILABLE: ReasonInfo(
        "UNAVAILABLE",
        "The read models (Cassandra) did not answer about a message or media older than the "
        "in-memory window (an ack, recall, forward or GetSendStatus of the message; a send or "
        "download of the media); nothing was written.",
        "Retry in a moment.",
    ),
    Reason.SEND_HOOK_UNAVAILABLE: ReasonInfo(
        "UNAVAILABLE",
        "The operator's pre-send hook did not answer in time, could not be reached or gave an "
        "unusable answer, and its policy is fail-closed; nothing was written.",
        "Retry with the same client message id.",
    ),
}

# Rejections a process's write model may give only because it has not yet read what another
# process appended an instant ago: a group created or a room entered through another ingress
# worker, a message sent there, an upload the media server registered. Such a rejection is
# decided once more after the model caught up with the log (services.writes.writer).
MAY_BE_STALE: frozenset[Reason] = frozenset(
    {
        Reason.NOT_A_MEMBER,
        Reason.GROUP_NOT_FOUND,
        Reason.ROOM_NOT_FOUND,
        Reason.CONVERSATION_NOT_FOUND,
        Reason.MESSAGE_NOT_FOUND,
        Reason.MEDIA_NOT_FOUND,
    }
)


class Rejected(Exception):
    """A request the domain refuses; carries its stable reason code and, when the same request
    becomes acceptable by waiting alone (a rate limit), how many milliseconds to wait."""

    def __init__(self, reason: Reason, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after_ms = retry_after_ms

    @property
    def info(self) -> ReasonInfo:
        return REASONS[self.reason]
