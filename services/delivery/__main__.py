"""`python -m services.delivery`: one delivery server on PARLEY_DELIVERY_PORT."""

from __future__ import annotations

import sys

from parley.config import Settings
from services.delivery.runner import run

if __name__ == "__main__":
    sys.exit(run(Settings()))
