"""The projection's media rows (the media archive): uploads without conversation state, the
objects of stored messages, recall flags that stay, whatever the batch boundaries."""

from __future__ import annotations

from dataclasses import replace

from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.domain.events import (
    FileContent,
    ImageContent,
    Logged,
    MediaRef,
    MediaUploaded,
    MessageRecalled,
    MessageSent,
    MultipleContent,
    Picture,
)
from parley.domain.media_uploads import object_id_from
from parley.domain.projection_fold import fold
from parley.domain.projection_state import ConversationState
from parley.domain.read_models import MediaAttachmentRow
from tests.unit.domain.projection_script import PEER_AB, Script

GROUP_KEY, ROOM_KEY = "g:team", "r:lobby"
OBJECTS = [object_id_from(bytes([n]) * 16) for n in range(5)]


def image(object_id: str) -> ImageContent:
    ref = MediaRef(object_id=object_id, file_name="a.png", size_bytes=9, mime_type="image/png")
    return ImageContent(ref, 4, 3, Picture(2, 1, 5), Picture(4, 3, 9))


def media_history() -> list[Logged]:
    """Uploads on their uploaders' streams; media messages in a peer conversation, a group and a
    room; recalls, a retried append of a recalled send, a dismissed room."""
    s = Script()
    s.create_group(GROUP_KEY, "alice", ("bob",))
    s.create_room(ROOM_KEY, "erin")
    for n, object_id in enumerate(OBJECTS):
        owner = "erin" if n == 4 else "alice"
        uploaded = s.add(PEER_AB, owner, MediaUploaded(image(object_id)))
        # uploads travel on the uploader's own stream, with the peer type
        s.logged[-1] = replace(
            uploaded, event=replace(uploaded.event, conversation_key=f"u:{owner}")
        )
    both = MultipleContent((image(OBJECTS[1]), FileContent(MediaRef(object_id=OBJECTS[2]))))
    s.add(PEER_AB, "alice", MessageSent("m1", image(OBJECTS[0]), recipient_id="bob"), "m1")
    s.add(GROUP_KEY, "alice", MessageSent("m2", both), "m2")
    s.add(ROOM_KEY, "erin", MessageSent("m3", image(OBJECTS[4])), "m3")
    s.recall(PEER_AB, "alice", "m1", "alice")
    s.add(GROUP_KEY, "bob", MessageSent("m4", image(OBJECTS[3])), "m4")
    s.recall(GROUP_KEY, "alice", "m2", "alice")
    s.duplicate(next(i for i, one in enumerate(s.logged) if one.event.event_id == "m1"))
    s.dismiss_room(ROOM_KEY, "erin")
    return s.logged


def carried_before(models: InMemoryReadModels, batch: list[Logged]) -> dict[str, tuple[str, ...]]:
    """What the projector looks up for a batch's recalls: media_objects_by_message."""
    rows = [r for r in models.rows.values() if isinstance(r, MediaAttachmentRow)]
    found: dict[str, tuple[str, ...]] = {}
    for logged in batch:
        payload, key = logged.event.payload, logged.event.conversation_key
        if isinstance(payload, MessageRecalled):
            mid = payload.message_id
            ids = tuple(
                r.object_id for r in rows if (r.message_id, r.conversation_key) == (mid, key)
            )
            if ids:
                found[mid] = ids
    return found


def project(batches: list[list[Logged]]) -> tuple[InMemoryReadModels, dict[str, ConversationState]]:
    models, states = InMemoryReadModels(), dict[str, ConversationState]()
    for batch in batches:
        models.apply(fold(states, batch, carried=carried_before(models, batch)).writes.values())
    return models, states


def test_fold__media_rows_do_not_depend_on_batch_boundaries() -> None:
    logged = media_history()
    whole, states = project([logged])
    one_by_one, _ = project([[one] for one in logged])
    assert one_by_one.table("media_attachment") == whole.table("media_attachment")
    assert one_by_one.table("media_upload") == whole.table("media_upload")
    recalled = {(k[1], k[2]): row["recalled"] for k, row in whole.table("media_attachment").items()}
    assert recalled == {
        (OBJECTS[0], "m1"): True,  # recalled, then appended again: still recalled
        (OBJECTS[1], "m2"): True,  # both objects of the composite
        (OBJECTS[2], "m2"): True,
        (OBJECTS[3], "m4"): False,
        (OBJECTS[4], "m3"): False,  # the room was dismissed: the cleanup reads this row
    }
    uploads = whole.table("media_upload")
    assert [(k[1], row["owner_id"]) for k, row in uploads.items()] == sorted(
        (oid, "erin" if oid == OBJECTS[4] else "alice") for oid in OBJECTS
    )
    assert not [key for key in states if key.startswith("u:")]  # no state for upload streams


def test_fold__a_recall_of_a_message_without_media_writes_no_media_row() -> None:
    s = Script()
    m1 = s.send(PEER_AB, "alice", "hi")
    s.recall(PEER_AB, "alice", m1, "alice")
    models, _ = project([s.logged])
    assert models.table("media_attachment") == {} and models.table("media_upload") == {}
