"""Live delivery over real Kafka and real gRPC sessions: peer, group, room, command, recall."""

from __future__ import annotations

import pytest

from tests.integration.delivery.conftest import DeliveryFactory
from tests.integration.delivery.harness import connect
from tests.integration.ingress_harness import PEER, IngressFactory

pytestmark = pytest.mark.integration


async def test_delivery__a_peer_message_reaches_both_sessions_of_the_recipient_once(
    ingress_factory: IngressFactory, delivery_factory: DeliveryFactory
) -> None:
    ingress = await ingress_factory()
    _, channel = await delivery_factory(ingress)
    alice, bob = await ingress.client("alice"), await ingress.client("bob")
    phone = await connect(channel, "bob", bob.token)
    laptop = await connect(channel, "bob", bob.token)
    sender = await connect(channel, "alice", alice.token)
    # Alice sends two messages; each of Bob's sessions and Alice's own get both, in order.
    first = await alice.send(PEER, "bob", "one")
    second = await alice.send(PEER, "bob", "two")
    key = first.conversation_key
    for session in (phone, laptop, sender):
        await session.wait(lambda s: len(s.messages(key)) >= 2)
    for session in (phone, laptop):
        got = session.messages(key)
        assert [m.message.message_id for m in got] == [first.message_id, second.message_id]
        assert [m.message.seq for m in got] == [1, 2]
        assert [m.message.body.text.text for m in got] == ["one", "two"]
        assert all(m.live and m.conversation_type == PEER for m in got)
        assert got[0].message.sender_id == "alice" and got[0].order_key == first.order_key
    for session in (phone, laptop, sender):
        await session.close()
