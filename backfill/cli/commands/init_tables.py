"""``backfill init-tables``: create every table the declaration names (with streams) and the failures table."""

from __future__ import annotations

import click

from backfill.cli.options import target_options
from backfill.console import err
from backfill.table.target import Target
from chalicelib.tables import create_tables


@click.command("init-tables")
@target_options
def command(target: Target) -> None:
    """Create the declaration's tables and the failures table on a local endpoint (moto server,
    LocalStack), from the declared keys; existing ones are kept."""
    created = create_tables(target.dynamodb, target.settings, target.streams)
    err.print(f"endpoint {target.endpoint}: created {created or 'nothing (all tables exist)'}")
