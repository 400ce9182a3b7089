"""The README's generated tables match the code they describe (run `python -m parley.readme`)."""

from parley.readme import README, render


def test_readme__generated_tables_are_current() -> None:
    text = README.read_text()
    assert render(text) == text


def test_readme__names_the_two_commands() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text
