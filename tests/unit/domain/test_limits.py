"""The default limits match the product brief."""

from __future__ import annotations

from parley.domain.limits import Limits


def test_limits__defaults_match_the_product_brief() -> None:
    limits = Limits()
    assert (limits.text_max_bytes, limits.command_max_bytes) == (32 * 1024, 5 * 1024)
    assert (limits.barrage_max_bytes, limits.custom_max_bytes) == (5 * 1024, 32 * 1024)
    assert (limits.max_mentions, limits.rate_per_second) == (50, 10)
    assert limits.recall_window_ms == 120_000
    assert (limits.client_message_id_max, limits.ext_max_entries, limits.ext_max_bytes) == (
        64,
        32,
        4096,
    )
    assert (limits.group_max_members, limits.name_max_chars) == (2000, 100)
