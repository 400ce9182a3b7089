"""What a dismissed room leaves in the media store: nothing, unless it was shown elsewhere too."""

from __future__ import annotations

import pytest

from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.media_retention import doomed_by_dismissal
from tests.unit.domain.room_media import RoomMedia

ROOM, PEER = ConversationType.ROOM, ConversationType.PEER


def doomed_ids(stage: RoomMedia) -> set[str]:
    return {stored.object_id for stored in doomed_by_dismissal(stage.model)}


def test_doomed_by_dismissal__media_of_a_dismissed_room_only() -> None:
    stage = RoomMedia()
    stage.create_room("gig")
    stage.create_room("jam")
    in_gig, in_jam, unsent = stage.upload("gig"), stage.upload("jam"), stage.upload("unsent")
    stage.show(in_gig, ROOM, "gig")
    stage.show(in_jam, ROOM, "jam")
    assert doomed_ids(stage) == set()
    stage.dismiss_room("gig")
    assert doomed_ids(stage) == {in_gig}
    assert unsent not in doomed_ids(stage)  # a pending upload belongs to no room yet


def test_doomed_by_dismissal__media_shown_elsewhere_too_is_kept() -> None:
    stage = RoomMedia()
    stage.create_room("gig")
    photo = stage.upload("photo")
    stage.show(photo, ROOM, "gig")
    stage.show(photo, PEER, "bob")
    stage.dismiss_room("gig")
    assert doomed_ids(stage) == set()


def test_directory__counts_each_dismissed_room_once_even_when_redelivered() -> None:
    stage = RoomMedia()
    stage.create_room("gig")
    assert stage.model.directory.rooms_dismissed == 0
    dismissed = stage.dismiss_room("gig")
    stage.apply(dismissed)  # the at-least-once feed brings it again
    assert stage.model.directory.rooms_dismissed == 1


def test_send__the_uploader_may_not_name_media_a_dismissed_room_took_with_it() -> None:
    stage = RoomMedia()
    stage.create_room("gig")
    photo = stage.upload("photo")
    stage.show(photo, ROOM, "gig")
    stage.show(photo, PEER, "bob")  # before the dismiss, the uploader may use it anywhere
    stage.create_room("jam")
    only_in_jam = stage.upload("jam")
    stage.show(only_in_jam, ROOM, "jam")
    stage.dismiss_room("jam")
    with pytest.raises(Rejected) as caught:
        stage.show(only_in_jam, PEER, "bob")
    assert caught.value.reason is Reason.MEDIA_NOT_FOUND
