"""Runs the projector worker: `python -m streams [--app-id ID]` (settings from PARLEY_* env)."""

from __future__ import annotations

import argparse
import functools
import logging
import sys

from parley import metrics
from parley.config import Settings
from streams.agent import install
from streams.app import DEFAULT_APP_ID, create_app, open_projector


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m streams")
    parser.add_argument("--app-id", default=DEFAULT_APP_ID, help="Faust app id = consumer group")
    args = parser.parse_args()
    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    metrics.serve_metrics(settings.projector_metrics_port)
    app = create_app(settings, args.app_id)
    install(app, settings.topic_conversation_events, functools.partial(open_projector, settings))
    names = {"WARNING": "warn", "ERROR": "error"}  # Faust's own spelling of the levels
    level = names.get(settings.log_level, settings.log_level.lower())
    sys.argv = ["streams", "worker", "--loglevel", level, "--without-web"]
    app.main()


if __name__ == "__main__":
    main()
