"""``backfill init-tables``: create every table the declaration names (with streams) and the failures table."""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from backfill.cli.options import target_options, yes_option
from backfill.console import confirm_or_refuse, err
from backfill.table.target import Target
from chalicelib.schema.active import active_reference
from chalicelib.tables import create_tables, missing_tables

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@click.command("init-tables", short_help="Create the declaration's missing tables.")
@target_options
@yes_option
def command(target: Target, yes: bool) -> None:
    """Create the tables the declaration names (each with its stream) and the failures table,
    from the declared keys; existing tables are kept. On an endpoint that is not on this machine
    (AWS, or a remote URL) it lists what it would create and asks first (--yes to skip)."""
    missing = missing_tables(target.dynamodb, target.settings)
    where = f"{target.endpoint} in region {target.settings.region}"
    if missing:
        err.print(f"declaration {active_reference()}: tables to create at {where}: {', '.join(missing)}")
        if not _on_this_machine(target.endpoint):
            confirm_or_refuse(f"Create {len(missing)} table(s) at {where}?", yes=yes)
    # also with nothing missing: it turns on the failures table's expiry where that is off
    created = create_tables(target.dynamodb, target.settings, target.streams)
    err.print(f"endpoint {target.endpoint}: created {created or 'nothing (all tables exist)'}")


def _on_this_machine(endpoint_url: str) -> bool:
    """A loopback endpoint (moto, DynamoDB Local, LocalStack here), not AWS's nor another host's."""
    return urlsplit(endpoint_url).hostname in LOOPBACK_HOSTS
