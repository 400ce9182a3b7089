"""`python -m services.checkpoints`: the checkpoint writer (see writer.py)."""

from __future__ import annotations

import sys

from parley.config import Settings
from services.checkpoints.writer import run

if __name__ == "__main__":
    sys.exit(run(Settings()))
