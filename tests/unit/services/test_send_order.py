"""A sender's appends in the order their sends arrived, whatever order their reads end in."""

from __future__ import annotations

import asyncio

from services.writes.send_order import SendOrder


async def test_send_order__each_send_goes_after_the_one_before_it_of_the_same_sender() -> None:
    order, handed_over = SendOrder(), []

    async def send(name: str, sender: str, read_s: float) -> None:
        turn = order.take(sender)  # on arrival, before the first await
        try:
            await asyncio.sleep(read_s)  # the archive read: later arrivals may finish first
            await turn.ready()
            handed_over.append(name)
        finally:
            turn.release()

    await asyncio.gather(
        send("a1", "alice", 0.03), send("a2", "alice", 0.0), send("b1", "bob", 0.01),
        send("a3", "alice", 0.01),
    )  # fmt: skip
    assert [n for n in handed_over if n.startswith("a")] == ["a1", "a2", "a3"]
    assert handed_over.index("b1") < handed_over.index("a1")  # other senders never wait
    assert order._last == {}  # nothing kept once every send is done


async def test_send_order__a_failed_send_lets_the_next_one_go() -> None:
    order = SendOrder()
    first, second = order.take("alice"), order.take("alice")
    first.release()
    first.release()  # idempotent
    await asyncio.wait_for(second.ready(), 1)
    second.release()
