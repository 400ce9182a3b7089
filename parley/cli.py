"""The `parley` console script: a dispatcher over parley/commands/ (run, status, token, chat,
replay, audit, provision)."""

from __future__ import annotations

import click

from parley.commands.audit import audit
from parley.commands.chat import chat
from parley.commands.provision import provision_command
from parley.commands.replay import replay_command
from parley.commands.run import run
from parley.commands.status import status
from parley.commands.token import token


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Parley: an event-sourced instant-messaging backend."""


cli.add_command(audit)
cli.add_command(chat)
cli.add_command(provision_command)
cli.add_command(replay_command)
cli.add_command(run)
cli.add_command(status)
cli.add_command(token)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
