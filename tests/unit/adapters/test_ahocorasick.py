"""Sensitive-word matcher: every occurrence, case-insensitive, as sorted end-exclusive spans."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from parley.adapters.ahocorasick import AhoCorasickWordMatcher, load_word_list, matcher_from_file


def test_ahocorasick__finds_words_case_insensitively() -> None:
    matcher = AhoCorasickWordMatcher(["Spam", "eggs"])
    text = "SPAM and Eggs and spam"
    assert matcher.find(text) == [(0, 4), (9, 13), (18, 22)]
    assert [text[s:e].lower() for s, e in matcher.find(text)] == ["spam", "eggs", "spam"]


def test_ahocorasick__reports_overlapping_and_nested_matches_sorted() -> None:
    matcher = AhoCorasickWordMatcher(["abc", "bcd", "b", "abcd"])
    assert matcher.find("xabcd") == [(1, 4), (1, 5), (2, 3), (2, 5)]


def test_ahocorasick__matches_chinese_words() -> None:
    matcher = AhoCorasickWordMatcher(["敏感词"])
    assert matcher.find("这是敏感词吗") == [(2, 5)]


def test_ahocorasick__spans_index_the_original_text_when_lowering_changes_length() -> None:
    # "İ" lower-cases to two characters; spans must still point into the text as given.
    matcher = AhoCorasickWordMatcher(["bad"])
    text = "İİ BAD"
    assert [text[s:e] for s, e in matcher.find(text)] == ["BAD"]


def test_ahocorasick__empty_list_or_text_finds_nothing() -> None:
    assert AhoCorasickWordMatcher([]).find("anything") == []
    assert AhoCorasickWordMatcher(["", "  "]).find("anything") == []
    assert AhoCorasickWordMatcher(["a"]).find("") == []


@given(
    st.lists(st.text("abAB", min_size=1, max_size=3), max_size=5),
    st.text("abAB ", max_size=30),
)
def test_ahocorasick__agrees_with_a_naive_scan(words: list[str], text: str) -> None:
    lowered = {w.lower() for w in words}
    naive = sorted(
        (start, start + len(w))
        for w in lowered
        for start in range(len(text))
        if text.lower().startswith(w, start)
    )
    assert AhoCorasickWordMatcher(words).find(text) == naive


def test_ahocorasick__word_list_file_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("# blocked words\nspam\n\n  Eggs  \n  # indented comment\n敏感\n", "utf-8")
    assert load_word_list(path) == ["spam", "Eggs", "敏感"]
    assert matcher_from_file(path).find("EGGS") == [(0, 4)]
