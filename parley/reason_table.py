"""Renders the reason-code table of the docs from the one place the codes are defined."""

from __future__ import annotations

from parley.domain.errors import REASONS

HEADER = (
    "| code | name | gRPC status | meaning | what the client should do |\n|---:|---|---|---|---|\n"
)


def reason_code_table() -> str:
    rows = (
        f"| {int(reason)} | `{reason.name}` | {info.status} | {info.meaning} "
        f"| {info.client_action} |"
        for reason, info in sorted(REASONS.items())
    )
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(reason_code_table(), end="")
