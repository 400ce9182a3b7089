"""Consumer library for integrators: Parley's event topics as typed events, at least once.

    consumer = EventConsumer(settings.kafka_bootstrap, "crm-sync",
                             [settings.topic_conversation_events], StartAt.committed())
    await consumer.run(handle)   # handle(delivered) -> awaitable; returns on SIGTERM/SIGINT

See docs/integration.md and docs/events.md (the contract).
"""

from parley.integration.consumer import Delivered, EventConsumer
from parley.integration.start import StartAt

__all__ = ["Delivered", "EventConsumer", "StartAt"]
