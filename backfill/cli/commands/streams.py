"""``backfill streams``: the local stream runner (moto server, LocalStack): feeds app.py's handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import click
from rich.progress import Progress
from rich.table import Table

from backfill.cli.options import (
    FiniteFloat,
    backup_dir_option,
    command_line,
    json_option,
    require_own_store,
    target_options,
)
from backfill.console import EXIT_ITEM_FAILURES, err, print_json, progress_columns, verbosity
from backfill.live.rollback import refuse_after_rollback, rollback_option
from backfill.live.stream_runner import (
    DEFAULT_POSITIONS_FILE,
    PositionStore,
    RunStats,
    StreamRunner,
)
from backfill.table.target import Target
from chalicelib.schema import active_schema
from chalicelib.streams import observability


@dataclass(frozen=True)
class CommandLine:
    """What ``backfill streams`` was given."""

    batch_size: int
    follow: bool
    interval: float
    from_start: bool
    positions_file: Path
    backup_dir: str
    despite_rollback: bool
    as_json: bool


@click.command("streams", short_help="Run the live path locally over the tables' streams.")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 10000), help="Records per handler call (like the mapping's BatchSize).")
@click.option("--follow", is_flag=True, help="Keep tailing the streams until Ctrl-C.")
@click.option("--interval", default=1.0, show_default=True, type=FiniteFloat(min=0, min_open=True, max=3600), help="Seconds between polls when --follow finds nothing.")
@click.option("--from-start", is_flag=True, help="Ignore saved positions: read every shard from TRIM_HORIZON.")
@click.option("--positions", "positions_file", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_POSITIONS_FILE, show_default=True, envvar="STREAM_POSITIONS_FILE", help="Where the position per shard is kept between runs. Env: STREAM_POSITIONS_FILE.")
@backup_dir_option
@rollback_option
@json_option
@target_options
@command_line(CommandLine)
def command(target: Target, given: CommandLine) -> None:
    """Feed the streams of the declaration's tables to the Chalice handlers, locally.

    Without --follow, drains what is in the streams (including the handler's own writes coming
    back) and exits. Records a handler refuses are in the failures table (`backfill failures`).
    Refused while the run store shows the table rolled back since its last migration.
    """
    # The handlers' powertools logger (JSON lines) stays off the console unless asked: -v shows
    # refusals and warnings, -vv every upgrade. What they refused is in the failures table.
    observability.logger.setLevel({0: logging.ERROR, 1: logging.WARNING}.get(verbosity(), logging.DEBUG))
    require_own_store(given.positions_file.parent)  # a shared directory could steer which records are read
    target.require_declared_tables(target.settings.failures_table)
    refuse_after_rollback(target, given.backup_dir, despite=given.despite_rollback, what="backfill streams")
    positions = PositionStore(given.positions_file, endpoint=target.endpoint, from_start=given.from_start)
    runner = StreamRunner(target, batch_size=given.batch_size, positions=positions)
    tables = " and ".join(target.settings.table(name) for name in active_schema().tables)
    err.print(f"reading streams of {tables} at {target.endpoint}")
    stats = RunStats()
    try:
        with Progress(*progress_columns(), console=err, transient=True) as bar:
            task = bar.add_task("stream records", total=None)
            stats.on_batch = lambda done: bar.update(task, completed=done.total_records(), description=_progress_line(done))
            if given.follow:
                err.print("following; Ctrl-C to stop")
                runner.follow(interval=given.interval, stats=stats)
            else:
                runner.drain(stats=stats)
    except KeyboardInterrupt:
        err.print("stopped")
    if given.as_json:
        print_json(stats.as_dict())
    else:
        err.print(summary_table(stats))
    if stats.given_up:
        raise SystemExit(EXIT_ITEM_FAILURES)


def _progress_line(stats: RunStats) -> str:
    refused = sum(counts.get("refused", 0) for counts in stats.outcomes.values())
    lag = "-" if stats.lag_s is None else f"{stats.lag_s:,.0f} s"
    return f"stream records (lag {lag}, refused {refused})"


def summary_table(stats: RunStats) -> Table:
    table = Table(title=f"stream runner: {stats.total_records()} records in {stats.batches} batches, {stats.rounds} rounds", title_justify="left")
    table.add_column("table")
    table.add_column("records", justify="right")
    table.add_column("outcomes")
    for name, count in sorted(stats.records.items()):
        outcomes = ", ".join(f"{k}={v}" for k, v in sorted(stats.outcomes.get(name, {}).items()) if v)
        table.add_row(name, str(count), outcomes)
    refused = sum(counts.get("refused", 0) for counts in stats.outcomes.values())
    notes = [f"{len(stats.given_up)} record(s) given up after repeated failures"] if stats.given_up else []
    if refused:
        notes.append(f"{refused} refused: `backfill failures` lists them")
    if notes:
        table.caption = "; ".join(notes) + ("" if verbosity() else " (-v shows the handlers' logs)")
    return table
