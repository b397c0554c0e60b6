"""``backfill status --run NAME``: every segment of a run (pending, backing up, running, done, failed)."""

from __future__ import annotations

import click
from rich.table import Table

from backfill.cli.options import backup_dir_option, json_option, store_endpoint_option
from backfill.console import EXIT_ITEM_FAILURES, EXIT_OK, err, print_json
from backfill.errors import BadInput
from backfill.run.status import StatusError, run_status
from backfill.run.store import StoreError, open_store


@click.command("status")
@click.option("--run", "run", metavar="NAME", required=True, help="The run (the workers' --run-id).")
@click.option("--total-segments", type=click.IntRange(min=1),
              help="The run's split, to list segments whose workers have not started yet.")
@backup_dir_option
@store_endpoint_option
@json_option
def command(run: str, total_segments: int | None, backup_dir: str, endpoint_url: str | None, as_json: bool) -> None:
    """Show every segment of run NAME from the run store: state, items, progress, rate and the age
    of its last checkpoint (a worker killed without warning shows as running with an old checkpoint;
    start it again with the same flags and it resumes). Exit 0 when every segment is done, 1 otherwise."""
    try:
        segments = run_status(open_store(backup_dir, endpoint_url=endpoint_url), run, total_segments=total_segments)
    except (StatusError, StoreError) as error:
        raise BadInput(f"no status of run {run!r}: {error}") from error
    if as_json:
        print_json([s.to_json() for s in segments])
    else:
        table = Table(title=f"run {run} in {backup_dir}", title_justify="left")
        for column in ("segment", "state", "done/items", "rate/s", "checkpoint age", "host", "note"):
            table.add_column(column)
        for s in segments:
            progress = f"{s.done if s.done is not None else '-'}/{s.items if s.items is not None else '-'}"
            table.add_row(str(s.segment), s.state, progress, str(s.rate or "-"),
                          f"{s.checkpoint_age_s}s" if s.checkpoint_age_s is not None else "-", s.host or "-", s.detail)
        err.print(table)
    raise SystemExit(EXIT_OK if all(s.state == "done" for s in segments) else EXIT_ITEM_FAILURES)
