"""The projection reducer: seqs, unread, mentions, recall, receipts, rooms, deletion, the guard."""

from __future__ import annotations

from typing import Any

from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.domain.events import (
    CommandContent,
    FileContent,
    MediaRef,
    MediaUploaded,
    MessageSent,
    TextContent,
    UserBlocked,
)
from parley.domain.message_ids import content_digest, fingerprint_of_event
from parley.domain.projection import project, projects
from parley.domain.projection_fold import fold
from parley.domain.projection_state import (
    ConversationState,
    MessageRef,
    from_json,
    recent_from_history,
    to_json,
)
from parley.domain.projection_step import mention_count
from parley.domain.read_models import (
    ConversationChanged,
    HistoryErased,
    MentionDeleted,
    ReceiptChanged,
)
from parley.domain.unread import is_hidden, unread_count
from tests.unit.domain.projection_script import GROUP, PEER_AB, ROOM, Script, scripted_history


def run(script: Script) -> tuple[dict[str, ConversationState], InMemoryReadModels]:
    states: dict[str, ConversationState] = {}
    models = InMemoryReadModels()
    models.apply(fold(states, script.logged).writes.values())
    return states, models


def history(models: InMemoryReadModels, key: str) -> dict[int, dict[str, Any]]:
    return {k[2]: row for k, row in models.table("history").items() if k[1] == key}


def user_row(models: InMemoryReadModels, user: str, key: str) -> dict[str, Any]:
    return models.table("user_conversation")[("user_conversation", user, key)]


def unread(models: InMemoryReadModels, user: str, key: str) -> int:
    row, head = user_row(models, user, key), models.table("head")[("head", key)]
    return unread_count(head["last_seq"], row["read_seq"], row["until_seq"])


def test_project__seqs_are_contiguous_from_one_and_duplicates_get_none() -> None:
    s = Script()
    first = s.send(PEER_AB, "alice", "one")
    s.send(PEER_AB, "bob", "two")
    s.duplicate(0)
    s.add(PEER_AB, "alice", MessageSent("cmd", CommandContent(b"x")))
    s.send(PEER_AB, "alice", "three")
    states, models = run(s)
    assert sorted(history(models, PEER_AB)) == [1, 2, 3]
    assert history(models, PEER_AB)[1]["message_id"] == first
    assert states[PEER_AB].last_seq == 3


def test_project__position_guard_skips_events_at_or_below_the_applied_offset() -> None:
    s = Script()
    s.send(PEER_AB, "alice", "one")
    s.send(PEER_AB, "bob", "two")
    states: dict[str, ConversationState] = {}
    fold(states, s.logged)
    before = to_json(states[PEER_AB])
    again = fold(states, s.logged)
    assert to_json(states[PEER_AB]) == before
    assert again.writes == {} and again.notices == {}


def test_project__unread_excludes_own_messages_and_never_goes_negative() -> None:
    s = Script()
    for text in ("a", "b", "c"):
        s.send(PEER_AB, "alice", text)
    s.send(PEER_AB, "bob", "d")  # bob's own message moves his read position to 4
    s.send(PEER_AB, "alice", "e")
    s.read(PEER_AB, "alice", 99)  # clamped to the last seq
    _, models = run(s)
    assert unread(models, "bob", PEER_AB) == 1
    assert unread(models, "alice", PEER_AB) == 0
    assert user_row(models, "alice", PEER_AB)["read_seq"] == 5


def test_project__a_joining_member_starts_with_nothing_unread() -> None:
    s = Script()
    s.create_group(GROUP, "carol", ("alice",))
    s.send(GROUP, "carol", "one")
    s.send(GROUP, "carol", "two", mention_all=True)
    s.add_members(GROUP, "carol", ("dave",))
    s.send(GROUP, "carol", "three")
    states, models = run(s)
    assert unread(models, "dave", GROUP) == 1
    assert unread(models, "alice", GROUP) == 3
    assert mention_count(states[GROUP], "dave") == 0
    assert mention_count(states[GROUP], "alice") == 1


def test_project__mentions_are_kept_per_user_and_cleared_by_reading() -> None:
    s = Script()
    s.create_group(GROUP, "carol", ("alice", "bob"))
    s.send(GROUP, "carol", "@alice", mentioned_user_ids=("alice", "carol"))
    s.send(GROUP, "carol", "@all", mention_all=True, mentioned_user_ids=("alice",))
    states, models = run(s)
    assert sorted(k[1:] for k in models.table("mention")) == [
        ("alice", GROUP, 1),
        ("alice", GROUP, 2),
    ]
    assert list(models.table("mention_all")) == [("mention_all", GROUP, 2)]
    assert mention_count(states[GROUP], "alice") == 2  # seq 2 counts once
    assert mention_count(states[GROUP], "bob") == 1
    assert mention_count(states[GROUP], "carol") == 0  # own mention-all
    s.read(GROUP, "alice", 1)
    out = project(states[GROUP], s.logged[-1])
    assert MentionDeleted("alice", GROUP, 1) in out.writes
    assert mention_count(states[GROUP], "alice") == 1


def test_project__recall_keeps_seq_who_and_when_and_withholds_content() -> None:
    s = Script()
    s.create_group(GROUP, "carol", ("alice",))
    s.send(GROUP, "carol", "one")
    mid = s.send(GROUP, "alice", "oops @carol", mentioned_user_ids=("carol",))
    s.recall(GROUP, "carol", mid, "alice")
    states, models = run(s)
    row = history(models, GROUP)[2]
    assert (row["recalled"], row["content"], row["sender_id"]) == (True, None, "alice")
    assert (
        row["recalled_by"] == "carol" and row["recalled_at_ms"] == s.logged[-1].event.server_time_ms
    )
    assert models.table("head")[("head", GROUP)]["last_recalled"] is True
    assert models.table("mention") == {}
    assert states[GROUP].last_seq == 2


def test_project__recall_of_an_old_message_uses_the_looked_up_ref() -> None:
    s = Script()
    s.send(PEER_AB, "alice", "one", message_id="old")
    states: dict[str, ConversationState] = {}
    fold(states, s.logged)
    states[PEER_AB].recent.clear()  # as if it left the recent window
    s.recall(PEER_AB, "alice", "old", "alice")
    assert project(states[PEER_AB], s.logged[-1]).writes == []  # unknown: nothing to recall
    states[PEER_AB].applied_offset = 0
    out = project(states[PEER_AB], s.logged[-1], {"old": MessageRef(1, "alice")})
    assert [w.key for w in out.writes] == [
        ("history", PEER_AB, 1),
        ("message_by_id", "old"),
        ("head", PEER_AB),
    ]


def test_project__a_stored_message_gets_its_row_by_id_with_what_its_send_was_answered() -> None:
    s = Script()
    s.send(PEER_AB, "alice", "one")
    mid = s.send(GROUP, "bob", "two", masked=True)
    s.add(PEER_AB, "alice", MessageSent("cmd", CommandContent(b"x"), recipient_id="bob"))
    _, models = run(s)
    rows = models.table("message_by_id")
    assert set(rows) == {("message_by_id", "m1"), ("message_by_id", mid)}  # never a command
    sent = s.logged[1]
    row = rows[("message_by_id", mid)]
    assert row == {
        "message_id": mid,
        "conversation_key": GROUP,
        "seq": 1,
        "sender_id": "bob",
        "sent_at_ms": sent.event.server_time_ms,
        "order_key": sent.position.offset,
        "masked": True,
        "content_digest": content_digest(TextContent("two")),
        "fingerprint": fingerprint_of_event(sent.event),
        "receipt_requested": False,
        "event_offset": sent.position.offset,
        "recalled": False,
    }


def test_project__a_recall_marks_the_row_by_id_in_the_same_batch_or_a_later_one() -> None:
    s = Script()
    mid = s.send(PEER_AB, "alice", "one")
    s.recall(PEER_AB, "alice", mid, "alice")
    _, together = run(s)
    states: dict[str, ConversationState] = {}
    apart = InMemoryReadModels()
    for logged in s.logged:
        apart.apply(fold(states, [logged]).writes.values())
    expected = {"recalled": True, "event_offset": s.logged[1].position.offset}
    for models in (together, apart):
        row = models.table("message_by_id")[("message_by_id", mid)]
        assert {k: row[k] for k in expected} == expected
        assert row["order_key"] == s.logged[0].position.offset  # the send's receipt stays


def test_project__group_receipts_record_each_reader_once_with_the_first_read_time() -> None:
    s = Script()
    s.create_group(GROUP, "carol", ("alice", "bob"))
    mid = s.send(GROUP, "carol", "ack please", receipt_requested=True)
    s.read_message(GROUP, "alice", mid)
    first_read_ms = s.logged[-1].event.server_time_ms
    s.read(GROUP, "alice")
    s.send(GROUP, "bob", "seen")  # bob's own send moves his read position past it
    states, models = run(s)
    readers = {k[3]: r["read_at_ms"] for k, r in models.table("reader").items()}
    assert readers == {"alice": first_read_ms, "bob": s.logged[-1].event.server_time_ms}
    assert len(states[GROUP].receipts[1].readers) == 2


def test_project__peer_receipts_follow_read_and_delivered_positions() -> None:
    s = Script()
    mid = s.send(PEER_AB, "alice", "one")
    s.delivered(PEER_AB, "bob", mid)
    s.read_message(PEER_AB, "bob", mid)
    states: dict[str, ConversationState] = {}
    batch = fold(states, s.logged)
    receipts = [n for n in batch.notices.values() if isinstance(n, ReceiptChanged)]
    assert {(n.user_id, n.seq, n.read) for n in receipts} == {
        ("alice", 1, False),
        ("alice", 1, True),
    }
    bob = states[PEER_AB].members["bob"]
    assert (bob.delivered_seq, bob.read_seq) == (1, 1)


def test_project__a_dismissed_room_loses_its_history_and_stores_nothing_after() -> None:
    s = Script()
    s.create_room(ROOM, "erin")
    s.send(ROOM, "erin", "one")
    states, models = run(s)
    assert len(history(models, ROOM)) == 1
    s.dismiss_room(ROOM, "erin")
    s.send(ROOM, "erin", "late")
    batch = fold(states, s.logged[-2:])
    assert HistoryErased(ROOM) in batch.writes.values()
    models.apply(batch.writes.values())
    assert history(models, ROOM) == {}


def test_project__deleting_hides_until_a_new_message_and_clears_history_view() -> None:
    s = Script()
    s.send(PEER_AB, "alice", "one")
    s.send(PEER_AB, "alice", "two")
    s.delete(PEER_AB, "bob", delete_history=True)
    states, models = run(s)
    row, last = user_row(models, "bob", PEER_AB), states[PEER_AB].last_seq
    assert is_hidden(last, row["hidden_through_seq"]) and row["cleared_through_seq"] == 2
    assert unread(models, "bob", PEER_AB) == 0
    assert not is_hidden(last, user_row(models, "alice", PEER_AB)["hidden_through_seq"])
    s.send(PEER_AB, "alice", "three")
    batch = fold(states, s.logged[-1:])
    notice = batch.notices[("conversation", "bob", PEER_AB)]
    assert isinstance(notice, ConversationChanged)
    assert (notice.hidden, notice.unread) == (False, 1)


def test_project__state_survives_its_json_form() -> None:
    states, _ = run(scripted_history())
    for state in states.values():
        assert to_json(from_json(to_json(state))) == to_json(state)


def test_project__recent_window_is_rebuilt_exactly_from_the_history_rows() -> None:
    # the state row leaves `recent` out; a loader rebuilds it from history rows up to last_seq
    states, models = run(scripted_history())
    for key, state in states.items():
        rows = sorted(
            (
                (r["seq"], r["message_id"], r["sender_id"], r["receipt_requested"], r["sent_at_ms"])
                for k, r in models.table("history").items()
                if k[1] == key
            ),
            reverse=True,
        )
        ahead = [(state.last_seq + 1, "m-of-a-batch-stored-in-part", "x", False, 0)]
        loaded = from_json(to_json(state))
        recent_from_history(loaded, ahead + rows)
        assert loaded.recent == state.recent and list(loaded.recent) == list(state.recent)


def test_project__scripted_history_yields_the_expected_read_models() -> None:
    states, models = run(scripted_history())
    peer = history(models, PEER_AB)
    assert sorted(peer) == [1, 2, 3, 4] and peer[2]["recalled"] and peer[2]["content"] is None
    assert (unread(models, "bob", PEER_AB), unread(models, "alice", PEER_AB)) == (1, 0)
    assert user_row(models, "bob", PEER_AB)["delivered_seq"] == 4
    assert sorted(history(models, GROUP)) == [1, 2, 3, 4, 5]
    alice = user_row(models, "alice", GROUP)
    assert (alice["cleared_through_seq"], alice["hidden_through_seq"]) == (3, 3)
    assert unread(models, "dave", GROUP) == 3
    assert unread(models, "bob", GROUP) == 1 and user_row(models, "bob", GROUP)["until_seq"] == 4
    assert mention_count(states[GROUP], "bob") == 1  # his own send read the @bob at seq 2
    assert history(models, ROOM) == {}
    readers = sorted(k[1:] for k in models.table("reader"))
    assert readers == [(GROUP, 1, "alice"), (GROUP, 1, "bob")]


def test_fold__events_that_change_no_read_model_touch_no_state() -> None:
    """An upload on the uploader's own stream, or a mute in a group, loads and stores no
    conversation state: the projector pays for them with its position (and for the upload
    with its row of the media archive)."""
    s = Script()
    s.send(PEER_AB, "alice", "hi")
    upload = FileContent(MediaRef("obj1", "", "a.bin", 10, "application/octet-stream"))
    s.add("p:alice:alice", "alice", MediaUploaded(upload))
    s.add(PEER_AB, "alice", UserBlocked("bob"))
    assert [projects(logged.event) for logged in s.logged] == [True, False, False]
    states: dict[str, ConversationState] = {}
    batch = fold(states, s.logged)
    assert set(batch.touched) == set(states) == {PEER_AB}
    assert states[PEER_AB].applied_offset == s.logged[0].position.offset
    again = fold(states, s.logged[1:])
    assert again.touched == {} and list(again.writes) == [("media_upload", "obj1")]


def test_project__every_member_has_a_row_from_the_first_message_with_nobody_replying() -> None:
    s = Script()
    s.send(PEER_AB, "alice", "one")
    s.send(PEER_AB, "alice", "two")
    s.create_group(GROUP, "alice", ("bob", "carol"))
    s.send(GROUP, "alice", "hi team")
    _, models = run(s)
    # The recipient never acked, read or sent, yet both conversations are in their inbox.
    assert unread(models, "bob", PEER_AB) == 2
    assert unread(models, "alice", PEER_AB) == 0
    for user in ("bob", "carol"):
        assert unread(models, user, GROUP) == 1
    assert user_row(models, "bob", PEER_AB)["read_seq"] == 0


def test_project__recent_ids_are_a_time_window_rebuilt_alike_from_history() -> None:
    s = Script()
    first = s.send(PEER_AB, "alice", "first")
    for n in range(700):  # one message a second: the first falls out of the 10 minute window
        s.send(PEER_AB, "bob" if n % 2 else "alice", f"n{n}")
    s.duplicate(len(s.logged) - 1)  # a racing duplicate seconds later: no second seq
    states, models = run(s)
    state = states[PEER_AB]
    assert state.last_seq == 701
    assert first not in state.recent and 590 <= len(state.recent) <= 601
    rows = sorted(
        (
            (r["seq"], r["message_id"], r["sender_id"], r["receipt_requested"], r["sent_at_ms"])
            for k, r in models.table("history").items()
            if k[1] == PEER_AB
        ),
        reverse=True,
    )
    loaded = from_json(to_json(state))
    recent_from_history(loaded, rows)
    assert list(loaded.recent.items()) == list(state.recent.items())
