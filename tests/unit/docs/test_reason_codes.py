"""The documented reason-code table is the one generated from the domain."""

from pathlib import Path

from parley.domain.errors import REASONS, Reason
from parley.gen.parley.v1 import common_pb2
from parley.reason_table import reason_code_table

ROOT = Path(__file__).resolve().parents[3]


def test_reason_codes__doc_matches_domain() -> None:
    assert reason_code_table() in (ROOT / "docs" / "reason-codes.md").read_text()


def test_reason_codes__every_reason_documented_and_on_the_wire() -> None:
    assert set(REASONS) == set(Reason)
    for reason in Reason:
        assert common_pb2.ReasonCode.Value(reason.name) == int(reason)
