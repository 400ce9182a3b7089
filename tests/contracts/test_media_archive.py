"""MediaArchive contract, run against the in-memory fake and against real Cassandra. Rows go in
as the projector writes them (row writes of parley.domain.read_models), and come back through
the port."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from parley.adapters.cassandra_media_archive import PAGE_ROWS, CassandraMediaArchive
from parley.adapters.memory_media_archive import InMemoryMediaArchive
from parley.domain.events import FileContent, ImageContent, MediaRef, Picture
from parley.domain.media_objects import Attachment
from parley.domain.read_models import (
    MediaAttachmentRecalled,
    MediaAttachmentRow,
    MediaUploadRow,
)
from parley.ports import MediaArchive
from tests.contracts.archives import Archive, archive_of

T0 = 1_700_000_000_000


@pytest.fixture(params=["memory", "cassandra"])
def archive(request: pytest.FixtureRequest) -> Archive[MediaArchive]:
    return archive_of(request, InMemoryMediaArchive, CassandraMediaArchive)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"  # each test its own ids: one keyspace per module


def image(object_id: str) -> ImageContent:
    ref = MediaRef(object_id=object_id, file_name="cat.png", size_bytes=5000, mime_type="image/png")
    return ImageContent(ref, 800, 600, Picture(240, 180, 900), Picture(800, 600, 4000))


async def test_media_archive__an_upload_comes_back_with_every_message_that_carried_it(
    archive: Archive[MediaArchive],
) -> None:
    photo, doc, never = new_id("o"), new_id("o"), new_id("o")
    m1, m2 = new_id("m"), new_id("m")
    document = FileContent(MediaRef(object_id=doc, file_name="a.pdf", size_bytes=9))
    await archive.write([
        MediaUploadRow(photo, "alice", image(photo), T0, 3),
        MediaUploadRow(doc, "bob", document, T0 + 1, 4),
        MediaAttachmentRow(photo, m1, "g:team", T0 + 5, 7),
        MediaAttachmentRow(photo, m2, "p:alice:carol", T0 + 6, 8),
        MediaAttachmentRow(doc, m2, "p:alice:carol", T0 + 6, 8),
    ])  # fmt: skip
    found = await archive.port.media([photo, never, doc])
    assert set(found) == {photo, doc}  # never uploaded: left out
    stored = found[photo]
    assert (stored.owner, stored.content, stored.uploaded_at_ms) == ("alice", image(photo), T0)
    assert stored.attachments == {
        m1: Attachment(m1, "g:team"),
        m2: Attachment(m2, "p:alice:carol"),
    }
    assert found[doc].content == document and found[doc].owner == "bob"
    assert await archive.port.objects_of(m2) == tuple(sorted((photo, doc)))
    assert await archive.port.objects_of(new_id("m")) == ()


async def test_media_archive__a_recall_stays_whatever_writes_the_row_again(
    archive: Archive[MediaArchive],
) -> None:
    photo, sent, merged = new_id("o"), new_id("m"), new_id("m")
    await archive.write([
        MediaUploadRow(photo, "alice", image(photo), T0, 1),
        MediaAttachmentRow(photo, sent, "g:team", T0 + 1, 2),
        MediaAttachmentRow(photo, merged, "g:team", T0 + 2, 3, recalled=True),  # same batch
    ])  # fmt: skip
    await archive.write([MediaAttachmentRecalled(photo, sent, 4)])
    await archive.write([MediaAttachmentRow(photo, sent, "g:team", T0 + 1, 2)])  # redelivered
    stored = (await archive.port.media([photo]))[photo]
    assert stored.attachments == {
        sent: Attachment(sent, "g:team", recalled=True),
        merged: Attachment(merged, "g:team", recalled=True),
    }


async def test_media_archive__the_objects_a_room_showed(archive: Archive[MediaArchive]) -> None:
    room, other = f"r:{new_id('gig')}", f"r:{new_id('jam')}"
    first, second, elsewhere = sorted(new_id("o") for _ in range(3))
    await archive.write([
        MediaAttachmentRow(second, new_id("m"), room, T0, 1),
        MediaAttachmentRow(first, new_id("m"), room, T0 + 1, 2),
        MediaAttachmentRow(first, new_id("m"), room, T0 + 2, 3),
        MediaAttachmentRow(elsewhere, new_id("m"), other, T0 + 3, 4),
        MediaAttachmentRow(elsewhere, new_id("m"), "g:team", T0 + 4, 5),
    ])  # fmt: skip
    assert await archive.port.objects_in_room(room) == [first, second]
    assert await archive.port.objects_in_room(f"r:{new_id('none')}") == []


async def test_media_archive__reads_past_a_page_of_rows(archive: Archive[MediaArchive]) -> None:
    photo, room = new_id("o"), f"r:{new_id('big')}"
    messages = sorted(new_id("m") for _ in range(PAGE_ROWS + 7))
    upload: list[Any] = [MediaUploadRow(photo, "alice", image(photo), T0, 1)]
    await archive.write(
        upload + [MediaAttachmentRow(photo, m, room, T0 + 1, 2 + i) for i, m in enumerate(messages)]
    )
    stored = (await archive.port.media([photo]))[photo]
    assert sorted(stored.attachments) == messages
    assert await archive.port.objects_in_room(room) == [photo]
