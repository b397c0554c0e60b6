"""``python -m localdev seed``: write legacy-shaped test data to the target (local endpoints and LocalStack).

The events example gets its own data set (``localdev.legacy_data``: statuses, crowded events,
rows the rule must refuse); any other declaration gets what ``localdev.declared_data`` derives
from it. Part of the local tooling, not of the installed package: it runs from a checkout."""

from __future__ import annotations

import click

from backfill.cli.options import target_options
from backfill.console import err
from backfill.table.target import Target
from chalicelib.schema import CURRENT, active_schema
from chalicelib.schema.active import active_reference
from localdev import declared_data, legacy_data


@click.command("seed")
@click.option("--items", "--events", "items", default=1000, show_default=True, type=click.IntRange(min=0),
              help="Legacy items of the declared table to create (--events: the same, for the events example).")
@click.option("--source-rows", "--participants", "source_rows", default=5000, show_default=True,
              type=click.IntRange(min=0), help="Rows of each aggregate's source table (the events example: participants).")
@click.option("--malformed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Events the upgrade rule must refuse (the events example only; at most --events).")
@click.option("--seed", "random_seed", default=7, show_default=True, help="Random seed.")
@target_options
def command(target: Target, items: int, source_rows: int, malformed: int, random_seed: int) -> None:
    """Create old-shape test data for the declaration (--schema) on local endpoints or LocalStack,
    to rehearse a migration. Not for production."""
    schema = active_schema()
    if malformed > items:
        raise click.BadParameter(f"{malformed} malformed events is more than --events {items}", param_hint="--malformed")
    if schema.tables != CURRENT.tables:
        _seed_declared(target, items, source_rows, malformed, random_seed)
        return
    target.require_tables(target.settings.target_table, target.settings.source_table())
    data = legacy_data.generate(events=items, participants=source_rows, malformed=malformed, seed=random_seed)
    legacy_data.seed_tables(target.dynamodb, target.settings.target_table, target.settings.source_table(), data)
    err.print(
        f"seeded {len(data.events)} legacy events ({len(data.malformed_ids)} malformed) and "
        f"{len(data.participants)} participants at {target.endpoint}"
    )


def _seed_declared(target: Target, items: int, source_rows: int, malformed: int, random_seed: int) -> None:
    if malformed:
        raise click.BadParameter("only the events example has a malformed data set", param_hint="--malformed")
    try:
        data = declared_data.generate(active_schema(), items=items, source_rows=source_rows, seed=random_seed)
    except declared_data.UnseedableDeclaration as error:
        raise click.UsageError(f"declaration {active_reference()}: cannot seed it: {error}") from error
    tables = {declared: target.settings.table(declared) for declared in (active_schema().table, *data.sources)}
    target.require_tables(*tables.values())
    legacy_data.load(target.dynamodb, tables[active_schema().table], data.items)
    for declared, rows in data.sources.items():
        legacy_data.load(target.dynamodb, tables[declared], rows)
    sources = ", ".join(f"{len(rows)} {tables[declared]} rows" for declared, rows in data.sources.items())
    err.print(f"declaration {active_reference()}: seeded {len(data.items)} legacy {tables[active_schema().table]} "
              f"items{' and ' + sources if sources else ''} at {target.endpoint}")
