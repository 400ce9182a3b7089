"""The send ledger: first entry wins, bounded by the idempotency window (and by count, for
safety)."""

from __future__ import annotations

from parley.domain.commands import SendReceipt
from parley.domain.send_ledger import LedgerEntry, SendLedger

WINDOW_MS = 600_000


def receipt(message_id: str, at_ms: int = 1_000, order_key: int = 1) -> SendReceipt:
    return SendReceipt(message_id, order_key, at_ms, "p:alice:bob")


def test_send_ledger__lookup_finds_what_was_recorded() -> None:
    ledger = SendLedger()
    ledger.record("alice", "c1", "fp", receipt("m1"))
    assert ledger.lookup("alice", "c1") == LedgerEntry(receipt("m1"), "fp")
    assert ledger.lookup("bob", "c1") is None
    assert ledger.lookup("alice", "c2") is None


def test_send_ledger__keeps_the_first_entry_for_a_key() -> None:
    ledger = SendLedger()
    first = ledger.record("alice", "c1", "fp-1", receipt("m1", order_key=5))
    kept = ledger.record("alice", "c1", "fp-2", receipt("m1", order_key=9))
    assert kept == first
    assert ledger.lookup("alice", "c1") == LedgerEntry(receipt("m1", order_key=5), "fp-1")


def test_send_ledger__prunes_entries_older_than_the_window() -> None:
    ledger = SendLedger(window_ms=WINDOW_MS)
    ledger.record("alice", "old", "fp", receipt("m1", at_ms=0))
    ledger.record("alice", "edge", "fp", receipt("m2", at_ms=1))
    ledger.record("alice", "new", "fp", receipt("m3", at_ms=WINDOW_MS + 1))
    assert ledger.lookup("alice", "old") is None
    assert ledger.lookup("alice", "edge") is not None
    assert len(ledger) == 2


def test_send_ledger__the_default_window_is_ten_minutes_of_server_time() -> None:
    ledger = SendLedger()
    ledger.record("alice", "c1", "fp", receipt("m1", at_ms=1_000))
    ledger.record("alice", "c2", "fp", receipt("m2", at_ms=1_000 + WINDOW_MS))
    assert ledger.lookup("alice", "c1") is not None  # exactly the window back: still kept
    ledger.record("alice", "c3", "fp", receipt("m3", at_ms=1_001 + WINDOW_MS))
    assert ledger.lookup("alice", "c1") is None
    assert [e[1] for e in ledger.to_document()["entries"]] == ["c2", "c3"]


def test_send_ledger__restoring_into_a_narrower_window_drops_what_it_would_not_keep() -> None:
    wide = SendLedger(window_ms=10 * WINDOW_MS)
    wide.record("alice", "old", "fp", receipt("m1", at_ms=0))
    wide.record("alice", "new", "fp", receipt("m2", at_ms=2 * WINDOW_MS))
    narrow = SendLedger(window_ms=WINDOW_MS)
    narrow.restore(wide.to_document())
    assert narrow.lookup("alice", "old") is None
    assert narrow.lookup("alice", "new") is not None


def test_send_ledger__bounded_by_count_oldest_first() -> None:
    ledger = SendLedger(max_entries=2)
    for index in range(3):
        ledger.record("alice", f"c{index}", "fp", receipt(f"m{index}"))
    assert ledger.lookup("alice", "c0") is None
    assert ledger.lookup("alice", "c2") is not None
    assert len(ledger) == 2
