"""What infra/local's command lines share: quiet client logs, and an InfraError told as its
problem and fix instead of a traceback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from infra.local.errors import InfraError


def run(command: Callable[[], int | None]) -> int:
    """The exit code of `command()` (0 when it returns none), or 2 when it raised InfraError."""
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("kafka", "cassandra"):  # clients log every refused probe connection
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        return command() or 0
    except InfraError as error:
        print(error.render(), file=sys.stderr)
        return 2
