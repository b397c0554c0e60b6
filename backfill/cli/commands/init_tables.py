"""``backfill init-tables``: create the events, participants and failures tables (with streams)."""

from __future__ import annotations

import click

from backfill.cli.options import target_options
from backfill.console import err
from backfill.table.target import Target
from chalicelib.tables import create_tables


@click.command("init-tables")
@target_options
def command(target: Target) -> None:
    """Create the tables on a local endpoint (moto server, LocalStack); existing ones are kept."""
    created = create_tables(target.dynamodb, target.settings, target.streams)
    err.print(f"endpoint {target.endpoint}: created {created or 'nothing (all tables exist)'}")
