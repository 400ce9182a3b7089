"""`python -m services.webhooks`: the webhook dispatcher (a child of `parley run`)."""

from __future__ import annotations

import asyncio

from parley.config import Settings
from parley.observability import configure_logging
from services.webhooks.service import WebhookService
from services.webhooks.settings import WebhookSettings


def main() -> None:
    configure_logging("webhooks")
    asyncio.run(WebhookService(Settings(), WebhookSettings()).run())


if __name__ == "__main__":
    main()
