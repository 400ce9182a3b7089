"""`parley chat` in two pseudo-terminals: a message arrives, its unread count appears and clears."""

from __future__ import annotations

import re
import sys
import time

import pexpect
import pytest

from tests.e2e.stack import Stack

pytestmark = pytest.mark.integration
TIMEOUT_S = 60


def chat(stack: Stack, user: str) -> pexpect.spawn:
    terminal = pexpect.spawn(
        sys.executable,
        ["-m", "parley.cli", "chat", "--user", user],
        env=stack.env,
        encoding="utf-8",
        timeout=TIMEOUT_S,
        dimensions=(40, 160),
    )
    terminal.expect(f"logged in as {user}")
    return terminal


def list_until(terminal: pexpect.spawn, pattern: str) -> None:
    """Types /list until the row matches (the read models follow the log within seconds)."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        terminal.sendline("/list")
        if terminal.expect([pattern, pexpect.TIMEOUT], timeout=2) == 0:
            return
        assert time.monotonic() < deadline, f"/list never showed {pattern!r}"


def test_chat__message_arrives_and_unread_appears_then_clears(shared_stack: Stack) -> None:
    carol, dave = chat(shared_stack, "carol"), chat(shared_stack, "dave")
    try:
        # Carol opens the conversation with Dave and writes to him.
        carol.sendline("/open dave")
        carol.expect(re.escape("== peer:dave"))
        carol.sendline("hi dave, lunch?")
        carol.expect("sent")

        # Dave sees it arrive live and, in his list, one unread message from Carol.
        dave.expect(re.escape("peer:carol: carol: hi dave, lunch?"))
        list_until(dave, r"peer:carol\s+unread 1")

        # Opening the conversation shows the message and reads it: unread goes back to 0.
        dave.sendline("/open carol")
        dave.expect(r"#1\s+\S+ carol: hi dave, lunch\?")
        dave.sendline("sure, at noon")
        carol.expect(r"dave: sure, at noon")
        list_until(dave, r"peer:carol\s+unread 0")

        for terminal in (carol, dave):
            terminal.sendline("/quit")
            terminal.expect(pexpect.EOF)
            terminal.close()
            assert terminal.exitstatus == 0
    finally:
        for terminal in (carol, dave):
            if terminal.isalive():
                terminal.terminate(force=True)
