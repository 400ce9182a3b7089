"""`python -m services.webhooks`: the webhook dispatcher (a child of `parley run`)."""

from __future__ import annotations

import asyncio

from parley.config import Settings
from parley.observability import configure_logging
from services.webhooks.service import WebhookService


def main() -> None:
    configure_logging("webhooks")
    asyncio.run(WebhookService(Settings()).run())


if __name__ == "__main__":
    main()
