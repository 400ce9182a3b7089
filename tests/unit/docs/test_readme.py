"""The README keeps its promises short and true; the generated tables of the docs match the
code they describe (run `python -m parley.generated_docs`)."""

import re

import pytest

from parley.generated_docs import ROOT, SECTIONS, render

README = ROOT / "README.md"


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_docs__generated_tables_are_current(name: str) -> None:
    text = SECTIONS[name][0].read_text()
    assert render(name, text) == text


def test_readme__names_the_two_commands() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text


def test_readme__stays_short_and_links_only_to_files_that_exist() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 230
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
