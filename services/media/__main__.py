"""`python -m services.media`: the media server on PARLEY_MEDIA_PORT (see runner.py)."""

from __future__ import annotations

import sys

from parley.config import Settings
from services.media.runner import run

if __name__ == "__main__":
    sys.exit(run(Settings()))
