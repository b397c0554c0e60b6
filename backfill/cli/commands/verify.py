"""``backfill verify``: check every item against the declaration, a fresh count and the snapshot."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import click
from rich.table import Table

from backfill.cli.commands.mirror import checked as mirror_checks
from backfill.cli.commands.mirror import render_verify as render_mirror
from backfill.cli.options import (
    MAX_THREADS,
    backup_dir_option,
    command_line,
    json_option,
    require_own_store,
    segment_or_array_index,
    target_options,
)
from backfill.console import EXIT_ITEM_FAILURES, EXIT_OK, err, phases_progress, print_json
from backfill.errors import Unverifiable
from backfill.run.backup import BackupError
from backfill.run.store import split_location
from backfill.table.aggregate_counts import AUTO, COUNT_METHODS, counted_by_label
from backfill.table.target import Target
from backfill.verify import VerifyOptions, VerifyResult, run_verify
from chalicelib.schema import active_schema


@dataclass(frozen=True)
class CommandLine:
    """What ``backfill verify`` was given: the check's options, and how to show the result."""

    options: VerifyOptions
    show: int  # problems listed
    as_json: bool

    @classmethod
    def of(cls, *, show: int, as_json: bool, no_snapshot: bool, **options: Any) -> CommandLine:
        """From the command's options: every other one is a field of ``VerifyOptions``."""
        return cls(VerifyOptions(use_snapshot=not no_snapshot, **options), show, as_json)


@click.command("verify", short_help="Check every item against the declaration.")
@click.option("--snapshot", metavar="FILE",
              help="Backup to compare with (data file or manifest). Default: the newest backup of the migrated table.")
@click.option("--run", "run", metavar="NAME",
              help="Compare with every backup of run NAME (all its segments) in --backup-dir. Default: the run of "
                   "the newest backup; a run that covers only part of the table fails with the missing segments.")
@click.option("--segment", type=click.IntRange(min=0),
              help="With --run: check only segment K of the run's split (memory of one segment; one array-job "
                   "child each). Default: AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX when set with --run.")
@click.option("--no-snapshot", is_flag=True, help="Skip the snapshot checks.")
@click.option("--sample", type=click.IntRange(min=1), help="Quick look: check only N items (no missing/orphan checks).")
@click.option("--show", default=20, show_default=True, type=click.IntRange(min=0), help="Problems to list.")
@click.option("--scan-threads", "total_segments", default=4, show_default=True, type=click.IntRange(1, MAX_THREADS),
              help="Threads that read the table, each one segment of a parallel scan (with a snapshot, the snapshot's split is used for the migrated table).")
@click.option("--count-with", type=click.Choice(COUNT_METHODS), default=AUTO, show_default=True,
              help="How the declaration's aggregate is counted: scan = one parallel scan of its whole source table "
                   "(finds orphan source rows); query = one consistent COUNT query per item checked; "
                   "auto = scan, or with --segment query when that costs less client CPU (as for migrate).")
@click.option("--strict", is_flag=True,
              help="For a table no application writes to: any change of an attribute the migration does not own "
                   "since the snapshot fails. Default: such changes are notes (the application's edits), and only "
                   "the migration's own writes of such attributes (its ledger) fail.")
@click.option("--accept-zero-counts", is_flag=True,
              help="Source rows of the aggregate that belong to no item at all (a group_by attribute on none of "
                   "them) are a note, not a failure: for a run migrated with --accept-zero-counts.")
@click.option("--show-values", is_flag=True,
              help="Show attribute values in findings (user data); by default only names and DynamoDB types.")
@backup_dir_option
@json_option
@target_options
@command_line(CommandLine.of)
def command(target: Target, given: CommandLine) -> None:
    """Verify the migrated table (and, for a count kept by a membership mirror, the mirror:
    docs/how-to/mirror.md). Exit 0 only when every check holds, 1 otherwise."""
    options, show, as_json = given.options, given.show, given.as_json
    if options.run is not None and options.snapshot is not None:
        raise click.UsageError("--run and --snapshot do not go together")
    if options.segment is not None and options.run is None:
        raise click.UsageError("--segment goes with --run NAME")
    if options.run is not None and options.segment is None:
        found = segment_or_array_index(None)
        options = replace(options, segment=found[0] if found else None)
    require_own_store(options.backup_dir, *([split_location(options.snapshot)[0]] if options.snapshot else []))
    target.require_declared_tables()
    try:
        with phases_progress() as on_progress:
            result = run_verify(target, options, on_progress=on_progress)
    except BackupError as error:
        raise Unverifiable(f"cannot verify against the snapshot: {error}") from error
    render(result, show)
    # A count kept by a membership mirror: its checks too, when the whole table is verified.
    whole = options.sample is None and options.segment is None
    mirror = mirror_checks(target, options.total_segments) if has_mirror() and whole else None
    if mirror is not None:
        render_mirror(target, mirror, show)
    if as_json:
        print_json({**result.to_json(), **({"mirror": mirror.to_json()} if mirror is not None else {})})
    raise SystemExit(EXIT_OK if result.ok and (mirror is None or mirror.ok) else EXIT_ITEM_FAILURES)


def has_mirror() -> bool:
    return any(a.mirror is not None for a in active_schema().aggregates)


def render(result: VerifyResult, show: int) -> None:
    summary = Table(title=f"verify {result.table} at {result.endpoint}", title_justify="left")
    summary.add_column("check")
    summary.add_column("result", justify="right")
    summary.add_row("mode", result.mode)
    summary.add_row("snapshot", result.snapshot or (result.snapshot_note or "-"))
    summary.add_row("items checked", str(result.items_checked))
    if result.source_table is not None:  # a declaration without an aggregate counts nothing
        summary.add_row(f"{result.source_table} rows counted", str(result.source_rows))
        summary.add_row(counted_by_label(), result.counted_with)
    for kind, n in result.counts_by_kind().items():
        summary.add_row(kind, str(n))
    summary.add_row("items failing", str(len(result.failing_names())))
    summary.add_row("verdict", "[green]OK[/]" if result.ok else "[red]FAILED[/]")
    err.print(summary)
    if result.snapshot_note:
        err.print(f"[yellow]Note:[/] {result.snapshot_note}")
    for title, findings in (("problems", result.failures), ("notes", result.notes)):
        if not findings or show == 0:
            continue
        table = Table(title=f"first {min(show, len(findings))} of {len(findings)} {title}", title_justify="left")
        table.add_column(active_schema().key.label)
        table.add_column("kind")
        table.add_column("reason")
        for finding in findings[:show]:
            table.add_row(finding.name, finding.kind.value, finding.reason)
        err.print(table)
