"""docs/use-cases.md names only files that exist and, after a colon, a name defined in them."""

import re

from parley.generated_docs import ROOT

USE_CASES = ROOT / "docs" / "use-cases.md"
REFERENCE = re.compile(r"`([\w./-]+\.(?:py|proto))(?::(\w+))?`")


def _defines(text: str, name: str) -> bool:
    """A Python def/class, or a proto rpc/message/service, of that name."""
    pattern = rf"^\s*(?:async def|def|class|rpc|message|service)\s+{name}\b"
    return re.search(pattern, text, re.MULTILINE) is not None


def test_use_cases__every_path_and_name_exists() -> None:
    references = REFERENCE.findall(USE_CASES.read_text())
    assert len(references) > 50  # the page was read, not skipped
    missing = [
        f"{path}:{name}" if name else path
        for path, name in references
        if not (ROOT / path).is_file() or (name and not _defines((ROOT / path).read_text(), name))
    ]
    assert missing == []
