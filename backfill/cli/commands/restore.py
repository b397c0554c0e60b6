"""``backfill restore FILE`` (also ``backfill --restore FILE``): roll the migrated table back."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any, NoReturn

import click
from rich.progress import Progress
from rich.table import Table

from backfill.cli.options import (
    MAX_THREADS,
    allow_version_mismatch_option,
    backup_dir_option,
    command_line,
    json_option,
    require_own_store,
    segment_or_array_index,
    store_encryption_options,
    target_options,
    yes_option,
)
from backfill.cli.pitr import check_pitr, require_pitr_option, why_required
from backfill.cli.processes import (
    MAX_PROCESSES,
    Child,
    backfill_argv,
    finished_children,
    given_options,
    log_directory,
    merge_summaries,
    progress_bar,
    run_children,
    stop_if_failed,
    worst_exit_code,
)
from backfill.console import (
    EXIT_ITEM_FAILURES,
    EXIT_OK,
    confirm_or_refuse,
    err,
    key_value_table,
    print_json,
    progress_columns,
    refuse_without_terminal,
)
from backfill.errors import BadInput, ExitCode
from backfill.live.guard import guard_live_path
from backfill.live.version import check_live_version
from backfill.restore import (
    RestoreOptions,
    RestorePlan,
    RestoreRefused,
    RestoreResult,
    execute_restore,
    plan_restore,
)
from backfill.restore.bulk import DEFAULT_WORKERS, BulkRestoreError, bulk_restore
from backfill.restore.runner import SUMMARY_CONFLICTS, SUMMARY_WRITES
from backfill.run.backup import BackupError, load_backup, verify_backup
from backfill.run.names import LOG_SUFFIX, RESTORE_PLAN_SUFFIX, RESTORE_RESULT_SUFFIX
from backfill.run.runs import find_run
from backfill.run.store import StoreError, split_location
from backfill.table.pitr import enable_pitr
from backfill.table.target import Target
from chalicelib.schema import active_schema


@dataclass(frozen=True)
class CommandLine:
    """What ``backfill restore`` was given (its options as one value)."""

    backup_file: str | None
    run: str | None
    segment: int | None
    force: bool
    delete_new: bool
    workers: int | None
    to_table: str | None
    create_table: bool
    show: int
    pause_live_path: bool
    live_path_running: bool
    processes: int
    plan_only: bool
    backup_dir: str
    require_pitr: bool
    allow_version_mismatch: bool
    yes: bool
    as_json: bool


@click.command("restore", short_help="Roll the migrated table back from a backup.")
@click.argument("backup_file", metavar="FILE", required=False)
@click.option("--run", "run", metavar="NAME", help="Restore every backup of run NAME (all its segments) from --backup-dir, "
              "instead of one FILE.")
@click.option("--segment", type=click.IntRange(min=0), help="With --run: only this segment's backup (restore a big run "
              "in parallel, one array-job child per segment). Default: AWS_BATCH_JOB_ARRAY_INDEX or "
              "JOB_COMPLETION_INDEX when set.")
@click.option("--force", is_flag=True,
              help="Overwrite conflicts (items changed since the migration) with the backed-up item and recreate deleted ones.")
@click.option("--delete-new", is_flag=True, help="Delete items created after the backup.")
@click.option("--writers", "workers", type=click.IntRange(1, MAX_THREADS),
              help=f"Concurrent writers [default: 8 in place, {DEFAULT_WORKERS} with --to-table].")
@click.option("--to-table", metavar="NAME",
              help="Bulk mode: write every backed-up item whole into the new or empty table NAME "
                   "(BatchWriteItem), instead of restoring the migrated table in place.")
@click.option("--create-table", is_flag=True, help="With --to-table: create NAME from the backup's key schema.")
@click.option("--show", default=20, show_default=True, type=click.IntRange(min=0), help="Conflicts to list.")
@click.option("--pause-live-path", is_flag=True,
              help="Pause the stream mappings reading these tables first, and leave them paused (the resume command is printed).")
@click.option("--live-path-running", is_flag=True,
              help="Restore although stream mappings reading these tables are enabled (they will upgrade restored rows again).")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, MAX_PROCESSES),
              help="With --run: restore its segments in up to N child processes of this command at a time (one "
                   "core each), one segment each: one plan, one confirmation, one report.")
@click.option("--plan-only", is_flag=True, hidden=True,
              help="(--processes' children) print the plan as JSON and stop before any write.")
@backup_dir_option
@store_encryption_options
@require_pitr_option
@allow_version_mismatch_option
@yes_option
@json_option
@target_options
@command_line(CommandLine)
def command(target: Target, given: CommandLine) -> None:
    """Restore the migrated table from backup FILE (data file or manifest, a path or an s3:// URI)
    or from every backup of --run NAME.

    Only items still exactly as the migration left them are restored (their migration-owned
    fields are put back; other attributes are never overwritten). Items changed since are
    conflicts: listed and skipped unless --force. Exit 1 on conflicts or failures. Refuses (exit 3)
    while a stream mapping reading these tables is enabled, unless --pause-live-path or
    --live-path-running, and (exit 3) when --stage's deployed live path runs another schema
    version, unless --allow-version-mismatch.

    With --to-table NAME (bulk mode) the backup, of any table, is written whole into the new or
    empty table NAME with BatchWriteItem (--create-table creates it from the backup's key schema);
    unprocessed items are resent with backoff until none is left. Exit 1 if any item could not be
    written, 2 if the backup or the table cannot be used.
    """
    if (given.backup_file is None) == (given.run is None):
        raise click.UsageError("name one backup FILE or one --run NAME")
    require_own_store(given.backup_dir, *([split_location(given.backup_file)[0]] if given.backup_file else []))
    if given.to_table is None and not given.plan_only:
        check_live_version(target, "restore", allow_mismatch=given.allow_version_mismatch)
    if given.processes > 1:
        if (given.run is None or given.segment is not None or segment_or_array_index(None) is not None
                or given.to_table is not None):
            raise click.UsageError("--processes restores the segments of one --run NAME itself: not with FILE, "
                                   "--segment, an array job's index or --to-table")
        restore_processes(target, given, given.run)
    if given.run is None and given.segment is not None:
        raise click.UsageError("--segment goes with --run NAME")
    if given.run is not None and given.segment is None:
        found = segment_or_array_index(None)
        given = replace(given, segment=found[0] if found else None)
    if given.to_table is not None:
        if given.run is not None or given.backup_file is None:
            raise click.UsageError("--to-table restores one backup FILE, not a --run")
        if given.force or given.delete_new:
            raise click.UsageError("--force and --delete-new are for the in-place restore, not --to-table")
        restore_into_table(target, given.backup_file, given.to_table, create=given.create_table,
                           workers=given.workers or DEFAULT_WORKERS, require_pitr=given.require_pitr, yes=given.yes,
                           as_json=given.as_json)
    if given.create_table:
        raise click.UsageError("--create-table goes with --to-table NAME")
    _restore_in_place(target, given)


def _restore_in_place(target: Target, given: CommandLine) -> NoReturn:
    """Plan from the backup(s) and the live table, show the plan, pause the live path, ask, write. Exits."""
    show, force = given.show, given.force
    if given.pause_live_path:  # pausing changes the deployed mappings before the confirmation is asked
        refuse_without_terminal("restore --pause-live-path", yes=given.yes)
    target.require_tables(target.settings.target_table)
    check_pitr(target, target.settings.target_table, required=given.require_pitr, writing=not given.plan_only)
    live_path = guard_live_path(target, allow_running=given.live_path_running, pause=given.pause_live_path)
    options = RestoreOptions(backup_file=given.backup_file, backup_dir=given.backup_dir, run=given.run,
                             segment=given.segment, force=force, delete_new=given.delete_new,
                             workers=given.workers or 8)
    try:
        with Progress(*progress_columns(), console=err, transient=True) as bar:
            task = bar.add_task("reading the live table", total=None)
            plan = plan_restore(target, options, on_progress=lambda _phase, n: bar.advance(task, n))
    except RestoreRefused as refused:
        show_available(refused, target.settings.target_table)
        raise BadInput(f"cannot restore, nothing was written: {refused}") from refused

    if given.plan_only:
        print_json({"summary": plan.summary(),
                    "conflicts": [[p.item_name, p.action.value, p.reason] for p in plan.first_conflicts(show)]})
        raise SystemExit(EXIT_OK)
    err.print(key_value_table("Restore plan", plan.summary()))
    live_path.pause()  # the backup is valid: now stop the handlers before anything is written
    show_items(f"conflicts: skipped{'' if not force else ' (overwritten: --force)'}",
               [(p.item_name, p.action.value, p.reason) for p in plan.first_conflicts(show)], show, plan.conflict_count)
    if plan.write_count:
        err.print("[yellow]Before you confirm:[/] the live stream handlers must be stopped (event source "
                  "mappings disabled), or they will upgrade the restored items again.")
        confirm_or_refuse(
            f"Write {plan.write_count} item(s) of table {plan.backup.table!r} at {plan.endpoint} "
            f"({plan.region}) back to backup {plan.name} ({plan.coverage})?",
            yes=given.yes,
        )
    with Progress(*progress_columns(), console=err) as bar:
        task = bar.add_task("restoring", total=plan.total)
        result = execute_restore(target, plan, on_progress=lambda _phase, n: bar.advance(task, n))
    render(result, plan, show)
    if given.as_json:
        print_json(result.to_json())
    plan.close()  # the on-disk index of items and outcomes
    raise SystemExit(EXIT_OK if result.ok else EXIT_ITEM_FAILURES)


def restore_into_table(target: Target, backup_file: str, table: str, *, create: bool, workers: int,
                       require_pitr: bool, yes: bool, as_json: bool) -> None:
    """Bulk mode (--to-table): every backed-up item, whole, into a new or empty table. Exits.
    PITR as for every write: an existing table is checked before the confirmation; a table this
    command creates gets PITR turned on first when it is required (and a warning when not)."""
    location, name = split_location(backup_file)
    try:
        backup = load_backup(name, store=target.run_store(location))
        verify_backup(backup)
    except BackupError as error:
        raise BadInput(f"cannot restore, nothing was written: {error}") from error
    err.print(key_value_table("Bulk restore plan", {
        "backup": backup.run_id, "backed-up table": backup.table, "items": backup.item_count,
        "into table": table, "create it": create, "endpoint": target.endpoint, "region": target.settings.region,
    }))
    after_create = _pitr_for_bulk_target(target, table, create=create, required=require_pitr)
    confirm_or_refuse(f"Write {backup.item_count} item(s) into table {table!r} at {target.endpoint}?", yes=yes)
    try:
        with Progress(*progress_columns(), console=err) as bar:
            task = bar.add_task(f"writing into {table}", total=backup.item_count)
            result = bulk_restore(target.dynamodb, backup, table, create=create, workers=workers,
                                  on_items=lambda n: bar.advance(task, n), after_create=after_create)
    except BulkRestoreError as error:
        raise BadInput(f"cannot restore into {table!r}: {error}") from error
    summary = result.to_json()
    err.print(key_value_table(f"Bulk restore of {backup.run_id} into {table}",
                              {k: v for k, v in summary.items() if k != "unwritten_keys"}))
    if result.unwritten:
        err.print(f"[bold red]{len(result.unwritten)} item(s) were not written[/] (the table kept refusing them); "
                  "their keys are in the --json output")
    if as_json:
        print_json(summary)
    raise SystemExit(EXIT_OK if result.ok else EXIT_ITEM_FAILURES)


def _pitr_for_bulk_target(target: Target, table: str, *, create: bool, required: bool) -> Callable[[], None] | None:
    """Check an existing bulk target's PITR now (refuse or warn); for a table still to be created,
    what runs once it exists: PITR turned on and checked when required, else a warning."""
    try:
        target.dynamodb.describe_table(TableName=table)
    except target.dynamodb.exceptions.ResourceNotFoundException:
        if not create:
            return None  # bulk_restore names the missing table and --create-table
    else:
        check_pitr(target, table, required=required)
        return None
    turn_on = why_required(target, required) is not None

    def created() -> None:
        if turn_on:
            err.print(f"Created table {table}; turning on its point-in-time recovery before any write.")
            enable_pitr(target.dynamodb, table)
        check_pitr(target, table, required=required)  # refuses when required and still not on, else warns

    return created


def show_available(refused: RestoreRefused, table: str) -> None:
    if not refused.available:
        err.print(f"No usable backup of table {table!r} was found.")
        return
    err.print(f"Usable backups of table {table!r} (newest first):")
    for entry in refused.available:  # one per line, unwrapped, so a path can be copied as is
        if entry.backup is None:
            continue  # a damaged listing; only usable ones are offered
        err.print(f"  {entry.backup.data_uri}  ({entry.backup.manifest.get('created_at')}, "
                  f"{entry.backup.item_count} items)", soft_wrap=True, highlight=False)


def show_items(title: str, rows: list[tuple[str, str, str]], show: int, total: int | None = None) -> None:
    """The first ``show`` of ``rows``; ``total``: how many there are (default: all are in ``rows``)."""
    total = len(rows) if total is None else total
    if not rows or show == 0:
        return
    table = Table(title=f"{title}: first {min(show, len(rows))} of {total}", title_justify="left")
    for column in (active_schema().key.label, "what", "reason"):
        table.add_column(column)
    for row in rows[:show]:
        table.add_row(*row)
    err.print(table)


def render(result: RestoreResult, plan: RestorePlan, show: int) -> None:
    err.print(key_value_table(f"Restore of {plan.backup.table} from {result.backup}", {
        **result.counts(), "report": result.report_path, "verdict": "OK" if result.ok else "CONFLICTS OR FAILURES",
    }))
    attention = ("conflict_skipped", "deleted_skipped", "failed", "new_kept")
    problems = [(o.item_name, o.outcome, o.reason) for o in islice(result.index.outcomes(attention), show)]
    show_items("items needing attention", problems, show, sum(result.outcome_counts[o] for o in attention))


# --- --processes N: the parent ---------------------------------------------------------------

_PARENT_ONLY = ("processes", "plan_only", "run", "segment", "yes", "as_json", "pause_live_path", "live_path_running",
                "show")


def restore_processes(target: Target, given: CommandLine, run: str) -> NoReturn:
    """Every backup of run ``run`` restored by its own child (``restore --run NAME --segment K``),
    at most ``processes`` at a time: the children plan (``--plan-only``), the parent checks the
    live path, shows the combined plan and asks once, then the children plan again and write.
    Exit code: the worst of the children's."""
    ctx = click.get_current_context()
    processes, show, yes = given.processes, given.show, given.yes
    table = target.settings.target_table
    if given.pause_live_path:
        refuse_without_terminal("restore --pause-live-path", yes=yes)
    target.require_tables(table)
    check_pitr(target, table, required=given.require_pitr)  # once here, before any child starts
    store = target.run_store(given.backup_dir)
    try:
        found = find_run(store, run, table)
        found.require_complete()
    except (BackupError, StoreError) as error:
        raise BadInput(f"cannot restore, nothing was written: {error}") from error
    live_path = guard_live_path(target, allow_running=given.live_path_running, pause=given.pause_live_path)
    # The parent guards the live path; its children only restore.
    options = [*given_options(ctx, skip=_PARENT_ONLY), "--live-path-running", "--show", str(show)]
    logs = log_directory(store)  # the run store's directory (or the user's 0700 one for s3://): its files 0600
    resume = shlex.join(["backfill", "restore", *given_options(ctx, skip=("run", "processes")), "--run", run,
                         "--processes", str(processes)])

    def children(suffix: str, extra: list[str]) -> list[Child]:
        return [Child(backup.segments[0], backfill_argv("restore", [*options, "--run", run, "--segment",
                                                                   str(backup.segments[0]), "--json", *extra]),
                      logs / f"{backup.run_id}{LOG_SUFFIX}", logs / f"{backup.run_id}{suffix}")
                for backup in found.backups]

    err.print(f"Run {run}: {len(found.backups)} backups, up to {processes} processes, logs in "
              f"{logs}/{run}*{LOG_SUFFIX} (each worker's one log: migrate's and restore's commands appended)",
              soft_wrap=True)
    planning = children(RESTORE_PLAN_SUFFIX, ["--plan-only"])
    with progress_bar(f"planning {len(planning)} segments", len(planning)) as update:
        interrupted = run_children(planning, on_poll=lambda: update(finished_children(planning)), limit=processes)
    stop_if_failed(planning, interrupted, resume, state="nothing was written")
    plans = [_read_output(child) for child in planning]
    summary = merge_summaries([p["summary"] for p in plans])
    summary.update({"backup": run, "covers": found.coverage()})
    err.print(key_value_table("Restore plan", summary))
    live_path.pause()  # every backup is valid: now stop the handlers before anything is written
    show_items("conflicts: skipped" if not summary.get("--force") else "conflicts: overwritten (--force)",
               [tuple(row) for p in plans for row in p["conflicts"]], show, int(summary.get(SUMMARY_CONFLICTS, 0)))
    writes = int(summary.get(SUMMARY_WRITES, 0))
    if writes:
        err.print("[yellow]Before you confirm:[/] the live stream handlers must be stopped (event source "
                  "mappings disabled), or they will upgrade the restored items again.")
        confirm_or_refuse(f"Write {writes} item(s) of table {table!r} at {target.endpoint} ({target.settings.region}) "
                          f"back to run {run} ({found.coverage()}), {processes} processes?", yes=yes)
    restoring = children(RESTORE_RESULT_SUFFIX, ["--yes"])
    with progress_bar(f"restoring {len(restoring)} segments", len(restoring)) as update:
        interrupted = run_children(restoring, on_poll=lambda: update(finished_children(restoring)), limit=processes)
    stop_if_failed(restoring, interrupted, resume, state="a segment restored again finds its restored items unchanged")
    result = merge_summaries([_read_output(child) for child in restoring])
    result.update({"backup": run, "segments": [{"segment": c.segment, "exit_code": c.exit_code, "log": str(c.log)}
                                               for c in restoring]})
    err.print(key_value_table(f"Restore of {table} from run {run}", {
        **result.get("counts", {}), "reports": result.get("report"),
        "verdict": "OK" if result.get("ok") else "CONFLICTS OR FAILURES"}))
    show_items("items needing attention", [(i[active_schema().key.label], i["outcome"], i["reason"]) for i in result.get("items", [])
                                            if i["outcome"] in ("conflict_skipped", "deleted_skipped", "failed",
                                                                "new_kept")], show)
    if given.as_json:
        print_json(result)
    raise SystemExit(worst_exit_code(c.exit_code for c in restoring))


def _read_output(child: Child) -> dict[str, Any]:
    """A child's --json output; unreadable means it failed in a way its exit code did not say."""
    try:
        return dict(json.loads(child.out.read_text() if child.out else ""))
    except (OSError, ValueError) as error:
        err.print(f"[bold red]Segment {child.segment}:[/] no readable output ({error}); log: {child.log}",
                  soft_wrap=True)
        raise SystemExit(ExitCode.INTERNAL) from error
