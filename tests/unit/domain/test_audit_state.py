"""A conversation as of a moment: the projector's reducer folded up to a bound."""

from __future__ import annotations

from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.domain.audit_state import AuditFold, ConversationMoment, MemberStanding
from parley.domain.events import Logged
from parley.domain.projection_fold import fold
from parley.domain.projection_state import ConversationState
from parley.domain.unread import unread_count
from tests.unit.domain.projection_script import GROUP, PEER_AB, ROOM, Script, scripted_history


def moment_at(logged: list[Logged], key: str, through_offset: int) -> ConversationMoment:
    audit = AuditFold(key)
    for one in logged:
        if one.position.offset <= through_offset:
            audit.apply(one)
    return audit.moment()


def member(moment: ConversationMoment, user: str) -> MemberStanding:
    return next(m for m in moment.members if m.user_id == user)


def offset_of(logged: list[Logged], key: str, payload_type: str, nth: int = 0) -> int:
    found = [
        one.position.offset
        for one in logged
        if one.event.conversation_key == key and type(one.event.payload).__name__ == payload_type
    ]
    return found[nth]


def test_audit_state__before_and_after_a_read() -> None:
    s = Script()
    s.send(PEER_AB, "alice", "one @bob", mentioned_user_ids=("bob",))
    s.send(PEER_AB, "alice", "two")
    s.read(PEER_AB, "bob")
    s.send(PEER_AB, "alice", "three")
    read = offset_of(s.logged, PEER_AB, "ConversationRead")

    before, after = moment_at(s.logged, PEER_AB, read - 1), moment_at(s.logged, PEER_AB, read)
    later = moment_at(s.logged, PEER_AB, read + 1)

    bob = member(before, "bob")
    assert (bob.unread, bob.read_seq, bob.mentions) == (2, 0, (1,))
    bob = member(after, "bob")
    assert (bob.unread, bob.read_seq, bob.mentions) == (0, 2, ())
    assert (member(later, "bob").unread, member(later, "alice").unread) == (1, 0)


def test_audit_state__before_and_after_a_recall() -> None:
    logged = scripted_history().logged
    recall = offset_of(logged, PEER_AB, "MessageRecalled")

    before, after = moment_at(logged, PEER_AB, recall - 1), moment_at(logged, PEER_AB, recall)

    assert [(h.seq, h.recalled, h.content) for h in before.history] == [
        (2, False, {"type": "TEXT", "text": "hi alice"}),
        (1, False, {"type": "TEXT", "text": "hi bob"}),
    ]
    assert after.history[0].seq == 2 and after.history[0].recalled
    assert after.history[0].content is None and after.history[0].recalled_by == "bob"
    assert after.history[0].event_offset == recall


def test_audit_state__before_and_after_a_member_leaves() -> None:
    logged = scripted_history().logged
    removed = offset_of(logged, GROUP, "GroupMembersRemoved")

    before, after = moment_at(logged, GROUP, removed - 1), moment_at(logged, GROUP, removed + 1)

    assert member(before, "bob").is_member and member(before, "bob").mentions == (4,)
    bob = member(after, "bob")
    assert (bob.is_member, bob.until_seq, bob.unread, bob.mentions) == (False, 4, 1, (4,))
    assert after.last_seq == 5 and member(after, "dave").unread == 3


def test_audit_state__a_dismissed_room_shows_no_history_and_no_unread() -> None:
    logged = scripted_history().logged
    dismissed = offset_of(logged, ROOM, "RoomDismissed")

    assert len(moment_at(logged, ROOM, dismissed - 1).history) == 2
    after = moment_at(logged, ROOM, dismissed)
    assert after.dismissed and after.history == ()


def test_audit_state__before_the_first_event_is_empty() -> None:
    moment = moment_at(scripted_history().logged, GROUP, -1)

    assert (moment.events, moment.last_offset, moment.history, moment.members) == (0, -1, (), ())


def test_audit_state__equals_the_projection_at_every_offset() -> None:
    """The fold of one conversation's prefix says what the projector's rows say then."""
    logged = scripted_history().logged
    for through in range(len(logged)):
        states: dict[str, ConversationState] = {}
        models = InMemoryReadModels()
        models.apply(fold(states, logged[: through + 1]).writes.values())
        for key in (PEER_AB, GROUP, ROOM):
            moment = moment_at(logged, key, through)
            rows = {k[2]: r for k, r in models.table("history").items() if k[1] == key}
            assert [h.seq for h in moment.history] == sorted(rows, reverse=True)[:20]
            for h in moment.history:
                assert (h.recalled, h.content is None, h.event_offset) == (
                    rows[h.seq]["recalled"], rows[h.seq]["content"] is None,
                    rows[h.seq]["event_offset"],
                )  # fmt: skip
            users = models.table("user_conversation")
            head = models.table("head").get(("head", key))
            for m in moment.members:
                row = users.get(("user_conversation", m.user_id, key))
                if row is None or head is None:
                    continue
                assert m.read_seq == row["read_seq"]
                if moment.type != "ROOM":
                    expected = unread_count(head["last_seq"], row["read_seq"], row["until_seq"])
                    assert m.unread == expected
