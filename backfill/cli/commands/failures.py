"""``backfill failures``: list what the stream handlers recorded as impossible to apply."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import click
from rich.table import Table

from backfill.cli.options import json_option, target_options
from backfill.console import err, out, print_json
from backfill.table.target import Target
from chalicelib.streams.failures import FailureStore, reasons_text
from chalicelib.streams.observability import loggable_reasons


@click.command("failures", short_help="List the records the live path refused.")
@click.option("--of-table", "table_filter", metavar="NAME",
              help="Only failures of this table (its actual name). (Not --table: that renames declared tables.)")
@click.option("--show-values", is_flag=True,
              help="Show the values reasons quote and (with --json) each record's image: user data. By default "
                   "values are <value> and images left out.")
@json_option
@target_options
def command(target: Target, table_filter: str | None, show_values: bool, as_json: bool) -> None:
    """List records the stream handlers refused (keys, reasons, when), oldest first."""
    target.require_tables(target.settings.failures_table)
    store = FailureStore(target.dynamodb, target.settings.failures_table)
    rows = [row if show_values else without_data(row)
            for row in store.scan() if table_filter is None or row.get("table") == table_filter]
    rows.sort(key=lambda row: (int(row.get("recordedAt", 0)), row["itemKey"], row["recordId"]))
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print(f"no failures recorded in {target.settings.failures_table} at {target.endpoint}")
        return
    out.print(failures_table(rows, target.settings.failures_table))


def failures_table(rows: list[dict[str, Any]], name: str) -> Table:
    table = Table(title=f"{len(rows)} failure(s) in {name}", title_justify="left")
    for column in ("item", "record", "event", "reasons", "recorded at"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["itemKey"],
            row["recordId"],
            str(row.get("eventName", "")),
            reasons_text(row.get("reasons", [])),
            _when(row.get("recordedAt")),
        )
    return table


def without_data(row: dict[str, Any]) -> dict[str, Any]:
    """A failure row for a terminal: keys, reasons without the values they quote, no image."""
    shown = {name: value for name, value in row.items() if name != "image"}
    shown["reasons"] = loggable_reasons(row.get("reasons", []))
    return shown


def _when(ms: Any) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
