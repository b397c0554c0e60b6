"""``backfill streams``: the local stream runner (moto server, LocalStack): feeds app.py's handlers."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from rich.table import Table

from backfill.cli.options import FiniteFloat, json_option, require_own_store, target_options
from backfill.console import EXIT_ITEM_FAILURES, err, print_json
from backfill.live.stream_runner import (
    DEFAULT_POSITIONS_FILE,
    PositionStore,
    RunStats,
    StreamRunner,
)
from backfill.table.target import Target
from chalicelib.schema import active_schema
from chalicelib.streams import observability


@click.command("streams", short_help="Run the live path locally over the tables' streams.")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 10000), help="Records per handler call (like the mapping's BatchSize).")
@click.option("--follow", is_flag=True, help="Keep tailing the streams until Ctrl-C.")
@click.option("--interval", default=1.0, show_default=True, type=FiniteFloat(min=0, min_open=True, max=3600), help="Seconds between polls when --follow finds nothing.")
@click.option("--from-start", is_flag=True, help="Ignore saved positions: read every shard from TRIM_HORIZON.")
@click.option("--positions", "positions_file", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_POSITIONS_FILE, show_default=True, envvar="STREAM_POSITIONS_FILE", help="Where the position per shard is kept between runs. Env: STREAM_POSITIONS_FILE.")
@json_option
@target_options
def command(target: Target, batch_size: int, follow: bool, interval: float, from_start: bool, positions_file: Path, as_json: bool) -> None:
    """Feed the streams of the declaration's tables to the Chalice handlers, locally.

    Without --follow, drains what is in the streams (including the handler's own writes coming
    back) and exits. Records a handler refuses are in the failures table (`backfill failures`).
    """
    # The handlers' powertools logger follows the CLI's verbosity (-v shows every upgrade).
    observability.logger.setLevel(logging.getLogger().getEffectiveLevel())
    require_own_store(positions_file.parent)  # a shared directory could steer which records are read
    target.require_declared_tables(target.settings.failures_table)
    positions = PositionStore(positions_file, endpoint=target.endpoint, from_start=from_start)
    runner = StreamRunner(target, batch_size=batch_size, positions=positions)
    tables = " and ".join(target.settings.table(name) for name in active_schema().tables)
    err.print(f"reading streams of {tables} at {target.endpoint}")
    stats = RunStats()
    try:
        if follow:
            err.print("following; Ctrl-C to stop")
            runner.follow(interval=interval, stats=stats)
        else:
            runner.drain(stats=stats)
    except KeyboardInterrupt:
        err.print("stopped")
    if as_json:
        print_json(stats.as_dict())
    else:
        err.print(summary_table(stats))
    if stats.given_up:
        raise SystemExit(EXIT_ITEM_FAILURES)


def summary_table(stats: RunStats) -> Table:
    table = Table(title=f"stream runner: {stats.total_records()} records in {stats.batches} batches, {stats.rounds} rounds", title_justify="left")
    table.add_column("table")
    table.add_column("records", justify="right")
    table.add_column("outcomes")
    for name, count in sorted(stats.records.items()):
        outcomes = ", ".join(f"{k}={v}" for k, v in sorted(stats.outcomes.get(name, {}).items()) if v)
        table.add_row(name, str(count), outcomes)
    if stats.given_up:
        table.caption = f"{len(stats.given_up)} record(s) given up after repeated failures (see logs)"
    return table
