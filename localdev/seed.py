"""``python -m localdev seed``: write a legacy data set to the target (local endpoints and LocalStack).

Part of the local tooling, not of the installed package: it runs from a checkout of the project."""

from __future__ import annotations

import click

from backfill.cli.options import target_options
from backfill.console import err
from backfill.table.target import Target
from chalicelib.schema import CURRENT, active_schema
from chalicelib.schema.active import active_reference
from localdev import legacy_data


@click.command("seed")
@click.option("--events", default=1000, show_default=True, type=click.IntRange(min=0), help="Legacy events to create.")
@click.option("--participants", default=5000, show_default=True, type=click.IntRange(min=0), help="Participant rows to create.")
@click.option("--malformed", default=0, show_default=True, type=click.IntRange(min=0), help="Events the upgrade rule must refuse (at most --events).")
@click.option("--seed", "random_seed", default=7, show_default=True, help="Random seed.")
@target_options
def command(target: Target, events: int, participants: int, malformed: int, random_seed: int) -> None:
    """Create old-shape test data of the events example on local endpoints or LocalStack. Not for
    production, and only for the events declaration (the default)."""
    if active_schema().tables != CURRENT.tables:
        raise click.UsageError(f"seed writes the events example's data; the declaration is {active_reference()}")
    if malformed > events:
        raise click.BadParameter(f"{malformed} malformed events is more than --events {events}", param_hint="--malformed")
    target.require_tables(target.settings.target_table, target.settings.source_table())
    data = legacy_data.generate(events=events, participants=participants, malformed=malformed, seed=random_seed)
    legacy_data.seed_tables(target.dynamodb, target.settings.target_table, target.settings.source_table(), data)
    err.print(
        f"seeded {len(data.events)} legacy events ({len(data.malformed_ids)} malformed) and "
        f"{len(data.participants)} participants at {target.endpoint}"
    )
