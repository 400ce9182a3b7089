"""Webhook endpoints and deliveries <-> their wire forms (protobuf records, the JSON body)."""

from __future__ import annotations

import json

from google.protobuf import json_format

from parley.domain.webhooks import WebhookEndpoint
from parley.gen.parley.v1 import events_pb2, webhooks_pb2

EVENT_TYPES = tuple(
    field.name for field in events_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"].fields
)


def endpoint_to_proto(endpoint: WebhookEndpoint, with_secret: bool) -> webhooks_pb2.WebhookEndpoint:
    return webhooks_pb2.WebhookEndpoint(
        endpoint_id=endpoint.endpoint_id,
        url=endpoint.url,
        event_types=sorted(endpoint.event_types),
        secret=endpoint.secret if with_secret else "",
        created_at_ms=endpoint.created_at_ms,
        removed=endpoint.removed,
    )


def endpoint_from_proto(message: webhooks_pb2.WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=message.endpoint_id,
        url=message.url,
        event_types=frozenset(message.event_types),
        secret=message.secret,
        created_at_ms=message.created_at_ms,
        removed=message.removed,
    )


def webhook_body(event_bytes: bytes, event_type: str) -> bytes:
    """The POSTed JSON: the event in protobuf's JSON mapping (field names as in events.proto,
    int64 as strings), with its type beside it."""
    event = events_pb2.Event.FromString(event_bytes)
    as_dict = json_format.MessageToDict(event, preserving_proto_field_name=True)
    document = {"event_id": event.event_id, "event_type": event_type, "event": as_dict}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
