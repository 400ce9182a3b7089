"""Webhook rules: which endpoints get an event, how a delivery is signed, when to retry."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from parley.domain.errors import Reason, Rejected
from parley.domain.events import Event

SIGNATURE_HEADER = "X-Parley-Signature"
TIMESTAMP_HEADER = "X-Parley-Timestamp"
EVENT_ID_HEADER = "X-Parley-Event-Id"
EVENT_TYPE_HEADER = "X-Parley-Event-Type"
ATTEMPT_HEADER = "X-Parley-Delivery-Attempt"
SIGNATURE_VERSION = "v1"


@dataclass(frozen=True)
class WebhookEndpoint:
    endpoint_id: str
    url: str
    event_types: frozenset[str]  # Event.payload field names; empty: every type
    secret: str
    created_at_ms: int
    removed: bool = False

    def wants(self, event_type: str) -> bool:
        return not self.removed and (not self.event_types or event_type in self.event_types)


def event_type_of(event: Event) -> str:
    """The Event.payload oneof field name of the event: MessageSent -> "message_sent"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(event.payload).__name__).lower()


def signature(secret: str, timestamp_ms: int, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256 of "<timestamp_ms>.<body>">`: the timestamp is signed with the body,
    so a receiver that rejects old timestamps also rejects a replayed request."""
    signed = str(timestamp_ms).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def is_valid_signature(secret: str, timestamp_ms: int, body: bytes, header: str) -> bool:
    """What a receiver checks (constant-time comparison)."""
    return hmac.compare_digest(signature(secret, timestamp_ms, body), header)


def backoff_s(attempt: int, first_s: float, max_s: float) -> float:
    """Wait after failed attempt `attempt` (1-based): first_s, doubling, capped at max_s."""
    return float(min(max_s, first_s * 2 ** (attempt - 1)))


def check_endpoint(url: str, event_types: Sequence[str], known_types: Iterable[str]) -> None:
    """Raises BAD_PARAMETER for a URL that is not http(s) with a host, or an unknown type."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Rejected(Reason.BAD_PARAMETER, f"webhook url must be http(s)://host/...: {url!r}")
    unknown = sorted(set(event_types) - set(known_types))
    if unknown:
        raise Rejected(Reason.BAD_PARAMETER, f"unknown event types: {', '.join(unknown)}")


Lane = tuple[str, str]  # (endpoint id, conversation key): deliveries in order within one


def lanes_of(
    events: Sequence[tuple[Event, str]], endpoints: Sequence[WebhookEndpoint]
) -> dict[Lane, list[int]]:
    """Indexes of `events` ((event, type) pairs, in log order) per lane: one endpoint and one
    conversation, in log order; different lanes may be delivered concurrently."""
    lanes: dict[Lane, list[int]] = {}
    for index, (event, event_type) in enumerate(events):
        for endpoint in endpoints:
            if endpoint.wants(event_type):
                lanes.setdefault((endpoint.endpoint_id, event.conversation_key), []).append(index)
    return lanes
