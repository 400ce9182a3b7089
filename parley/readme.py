"""Keeps the generated tables of README.md current: `python -m parley.readme` rewrites them."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from parley.config import Settings
from parley.reason_table import reason_code_table

README = Path(__file__).resolve().parents[1] / "README.md"

SECTIONS = {
    "reason-codes": reason_code_table,
    "config": Settings.markdown_table,
}


def render(text: str) -> str:
    """The README text with every generated section replaced by its current table."""
    for name, table in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
        # A function, not a replacement string, so backslashes in a table stay literal.
        text = pattern.sub(functools.partial(_between_markers, table()), text)
    return text


def _between_markers(table: str, match: re.Match[str]) -> str:
    return f"{match[1]}{table}{match[2]}"


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
