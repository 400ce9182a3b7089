"""`python -m services.ingress`: starts PARLEY_INGRESS_WORKERS ingress server processes."""

from __future__ import annotations

import sys

from parley.config import Settings
from services.ingress.runner import run

if __name__ == "__main__":
    sys.exit(run(Settings()))
