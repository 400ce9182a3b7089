"""Keeps the generated tables of the docs current: `python -m parley.generated_docs` rewrites
the reason-code table (docs/reason-codes.md) and the settings table (docs/configuration.md)
from the code they describe; tests/unit/docs checks they are current."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

from parley.config import Settings
from parley.reason_table import reason_code_table

ROOT = Path(__file__).resolve().parents[1]

# Each generated section: the file it lives in, between <!-- NAME:begin --> and <!-- NAME:end -->.
SECTIONS: dict[str, tuple[Path, Callable[[], str]]] = {
    "reason-codes": (ROOT / "docs" / "reason-codes.md", reason_code_table),
    "config": (ROOT / "docs" / "configuration.md", Settings.markdown_table),
}


def render(name: str, text: str) -> str:
    """`text` with the section `name` replaced by its current table."""
    table = SECTIONS[name][1]()
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no <!-- {name}:begin/end --> markers")
    # A function, not a replacement string, so backslashes in a table stay literal.
    return pattern.sub(functools.partial(_between_markers, table), text)


def _between_markers(table: str, match: re.Match[str]) -> str:
    return f"{match[1]}{table}{match[2]}"


def main() -> None:
    for name, (path, _) in SECTIONS.items():
        path.write_text(render(name, path.read_text()))


if __name__ == "__main__":
    main()
