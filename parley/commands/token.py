"""`parley token USER`: issues a user token through AdminService.IssueToken (admin secret)."""

from __future__ import annotations

import asyncio
import sys

import click

from parley.commands.targets import ingress_target
from parley.config import Settings
from parley.sdk import AdminClient, ParleyError


async def issue(settings: Settings, user_id: str, ttl_s: int) -> str:
    async with AdminClient(ingress_target(settings), settings.admin_secret) as admin:
        issued = await admin.issue_token(user_id, ttl_s)
    return issued.token


@click.command("token")
@click.argument("user")
@click.option(
    "--ttl", "ttl_s", type=int, default=0, help="Lifetime in seconds (0: server default)."
)
def token(user: str, ttl_s: int) -> None:
    """Print a token for USER (uses PARLEY_ADMIN_SECRET and the ingress address)."""
    try:
        click.echo(asyncio.run(issue(Settings(), user, ttl_s)))
    except ParleyError as error:
        click.echo(f"parley token: {error}", err=True)
        sys.exit(1)
