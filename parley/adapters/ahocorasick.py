"""Sensitive-word matching with an Aho-Corasick automaton (pyahocorasick); word-list files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import ahocorasick


def _fold(text: str) -> str:
    """Lower-cases `text` without changing its length, so spans index the original text.

    A few characters lower-case to two (U+0130 "İ" -> "i̇"); they are kept as they are.
    """
    folded = text.lower()
    if len(folded) == len(text):
        return folded
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class AhoCorasickWordMatcher:
    """Finds every occurrence of a fixed word list in one pass over the text, case-insensitively.

    Spans are (start, end) character offsets into the original text, end exclusive, sorted by
    start then end; overlapping and nested matches are all reported.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for word in {_fold(w.strip()) for w in words} - {""}:
            self._automaton.add_word(word, len(word))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._automaton)

    def find(self, text: str) -> list[tuple[int, int]]:
        if self._empty or not text:
            return []
        spans = [(end + 1 - length, end + 1) for end, length in self._automaton.iter(_fold(text))]
        spans.sort()
        return spans


def load_word_list(path: str | Path) -> list[str]:
    """Words of a list file: one per line, surrounding blanks ignored, '#' starts a comment line."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def matcher_from_file(path: str | Path) -> AhoCorasickWordMatcher:
    return AhoCorasickWordMatcher(load_word_list(path))
