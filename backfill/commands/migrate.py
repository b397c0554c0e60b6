"""``backfill migrate``: upgrade every existing event, with backup, dry run, confirmation and report."""

from __future__ import annotations

import shlex
from typing import Any, NoReturn

import click
from click.core import ParameterSource
from rich.markup import escape

from backfill.backup import Backup, BackupError
from backfill.console import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    confirm_or_refuse,
    err,
    key_value_table,
    print_json,
    refuse_without_terminal,
)
from backfill.errors import CliError, explain
from backfill.estimate import (
    DEFAULT_PRICE_PER_MILLION_READS,
    DEFAULT_PRICE_PER_MILLION_WRITES,
    DEFAULT_WRITE_LATENCY_MS,
    Pricing,
)
from backfill.migrate import (
    MigrationError,
    MigrationHooks,
    MigrationOptions,
    Plan,
    plan_migration,
    run_migration,
)
from backfill.migrate.checkpoint import CheckpointError
from backfill.migrate.render import plan_view, progress_factory, report_view
from backfill.options import (
    MAX_THREADS,
    MAX_TOTAL_SEGMENTS,
    FiniteFloat,
    backup_dir_option,
    json_option,
    require_writable_store,
    segment_or_array_index,
    target_options,
    yes_option,
)
from backfill.participant_counts import AUTO, COUNT_METHODS
from backfill.runs import run_id_from_environment
from backfill.store import StoreError
from backfill.target import Target


@click.command("migrate")
@click.option("--dry-run", is_flag=True, help="Scan and print the full plan; write nothing anywhere (no backup either).")
@click.option("--segments", default=4, show_default=True, type=click.IntRange(1, MAX_THREADS), help="Parallel scan segments (threads).")
@click.option("--segment", type=click.IntRange(min=0), help="Only do segment K of --total-segments (split one table over several "
              "machines). Default: AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX when set (array jobs).")
@click.option("--total-segments", type=click.IntRange(1, MAX_TOTAL_SEGMENTS), help="Number of segments the table is split into with --segment.")
@click.option("--count-with", type=click.Choice(COUNT_METHODS), default=AUTO, show_default=True,
              help="How participants are counted: scan = one parallel scan of the whole participants table; "
                   "query = one consistent COUNT query per event this worker migrates (reads only its events' "
                   "participants); auto = scan for the whole table, query with --segment. The target table "
                   "and the dry run's estimate say which was used and what the other would cost.")
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, MAX_THREADS), help="Concurrent writers.")
@click.option("--rate-limit", default=0.0, show_default=True, type=FiniteFloat(min=0), help="Writes per second (0 = unlimited).")
@click.option("--run-id", metavar="NAME", envvar="BACKFILL_RUN_ID",
              help="Name of a run several workers share (each with its --segment); verify/restore/status take it "
                   "with --run. A worker restarted with the same flags resumes its segment from the run store. "
                   "Default on AWS Batch: the array job's id. Env: BACKFILL_RUN_ID.")
@click.option("--resume", "resume", metavar="RUN_ID", help="Continue the run RUN_ID (looked up in --backup-dir): verifies its backup again, skips checkpointed items, re-counts participants.")
@click.option("--price-per-million-writes", default=DEFAULT_PRICE_PER_MILLION_WRITES, show_default=True,
              type=FiniteFloat(min=0), help="Dry run's estimate: USD per million write request units "
              "(default: us-east-1 on-demand, Standard table class).")
@click.option("--price-per-million-reads", default=DEFAULT_PRICE_PER_MILLION_READS, show_default=True,
              type=FiniteFloat(min=0), help="Dry run's estimate: USD per million read request units.")
@click.option("--write-latency-ms", default=DEFAULT_WRITE_LATENCY_MS, show_default=True,
              type=FiniteFloat(min=0), help="Dry run's estimate: time one conditional write keeps a writer busy.")
@backup_dir_option
@yes_option
@json_option
@target_options
def command(
    target: Target,
    dry_run: bool,
    segments: int,
    segment: int | None,
    total_segments: int | None,
    count_with: str,
    workers: int,
    rate_limit: float,
    run_id: str | None,
    resume: str | None,
    price_per_million_writes: float,
    price_per_million_reads: float,
    write_latency_ms: float,
    backup_dir: str,
    yes: bool,
    as_json: bool,
) -> None:
    """Upgrade every existing event to the current schema.

    Shows the target, counts participants (see --count-with), writes a verified backup, plans
    every item from the backup, asks for confirmation (--yes skips it; without a terminal and
    without --yes it refuses with exit code 3), then upgrades the backed-up items with
    conditional writes on owned fields only. Rows created after the backup are not touched
    here: the live stream handlers upgrade them. A run that dies is continued with --resume.

    Exit code 1 when any item was refused, failed or kept changing; the report lists them.
    Ctrl-C stops after the writes in flight, saves the checkpoint, prints the --resume command
    and exits 130.
    """
    if dry_run and resume:
        raise click.UsageError("--dry-run and --resume do not go together")
    segment, run_id = _array_job_worker(segment, total_segments, run_id)
    options = MigrationOptions(
        backup_dir=backup_dir,
        segments=segments,
        segment=segment,
        total_segments=total_segments,
        count_with=count_with,
        workers=workers,
        rate_limit=rate_limit,
        resume=resume,
        run_id=run_id,
    )
    try:
        options.scan_layout()  # option combinations, checked before anything is read
    except MigrationError as error:
        raise click.UsageError(str(error)) from error
    if not dry_run:
        refuse_without_terminal("migrate", yes=yes)
        require_writable_store(backup_dir)
    confirmed: list[str] = []  # the run id, once writes may have started

    def confirm(plan: Plan, backup: Backup) -> None:
        _confirm(plan, backup, yes=yes)
        confirmed.append(backup.run_id)

    hooks = MigrationHooks(
        on_target=lambda description: err.print(key_value_table("Target", description)),
        confirm=confirm,
        progress=progress_factory(err),
    )
    target.require_tables(target.settings.events_table, target.settings.participants_table)
    try:
        if dry_run:
            pricing = Pricing(price_per_million_writes, price_per_million_reads, write_latency_ms)
            result = plan_migration(target, options, hooks, pricing)
            err.print(plan_view(result.plan, heading="Dry run: nothing was written"))
            err.print(key_value_table("Estimate of the real run (DynamoDB's rounding rules)",
                                      _flat(result.estimate)))
            payload: dict[str, Any] = result.to_dict()
        else:
            report = run_migration(target, options, hooks)
            err.print(report_view(report))
            payload = report.to_dict()
    except (MigrationError, BackupError, CheckpointError, StoreError) as error:
        err.print(f"[bold red]Cannot migrate:[/] {escape(str(error))}", soft_wrap=True)
        # A run store on S3 that cannot be reached is the AWS side (4), not the operator's input.
        raise SystemExit(explain(error).exit_code if isinstance(error, CliError) else EXIT_USAGE) from error
    except KeyboardInterrupt:
        _interrupted(confirmed[0] if confirmed else resume)
    if as_json:
        print_json(payload)
    raise SystemExit(payload["exit_code"])


def _interrupted(run_id: str | None) -> NoReturn:
    """Ctrl-C: the runner has let the writes in flight finish and saved the checkpoint."""
    if run_id is None:
        err.print("[bold yellow]Interrupted[/] before the first write to the table: nothing to resume.", soft_wrap=True)
    else:
        err.print(
            f"[bold yellow]Interrupted:[/] the writes in flight finished and the checkpoint of run {run_id} "
            f"is saved. Continue with:\n  {escape(resume_command(run_id))}",
            soft_wrap=True,
        )
    raise SystemExit(EXIT_INTERRUPTED)


def resume_command(run_id: str) -> str:
    """The command line that continues ``run_id``: the options this run was given, plus --resume."""
    ctx = click.get_current_context()
    named = ctx.params.get("run_id") is not None  # a named run resumes with its own flags, no --resume
    words = ["backfill", "migrate"] if named else ["backfill", "migrate", "--resume", run_id]
    for parameter in ctx.command.params:
        name = parameter.name
        if name in ("resume", "dry_run") or not isinstance(parameter, click.Option) or name is None:
            continue
        if ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[name]
        flag = parameter.opts[0]
        if parameter.is_flag:
            words += [flag] if value else []
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def _flat(summary: dict[str, Any]) -> dict[str, Any]:
    """Nested estimate entries as "a: b" rows (one line each on the terminal)."""
    rows: dict[str, Any] = {}
    for name, value in summary.items():
        if isinstance(value, dict):
            rows[name] = ", ".join(f"{k}: {v}" for k, v in value.items())
        else:
            rows[name] = value
    return rows


def _array_job_worker(segment: int | None, total_segments: int | None, run_id: str | None) -> tuple[int | None, str | None]:
    """--segment and --run-id, completed from the array-job engine's environment when not given."""
    if segment is not None:
        return segment, run_id
    found = segment_or_array_index(segment)
    if found is None:
        return segment, run_id
    index, variable = found
    if total_segments is None:
        raise click.UsageError(f"{variable} is set (array job): give --total-segments N, the size of the array")
    run_id = run_id or run_id_from_environment()
    if run_id is None:
        raise click.UsageError(f"{variable} is set (array job): give --run-id NAME (or BACKFILL_RUN_ID), the same "
                               "for every worker, so the segments form one run")
    return index, run_id


def _confirm(plan: Plan, backup: Backup, *, yes: bool) -> None:
    err.print(plan_view(plan, heading=f"Plan (backup {backup.data_uri} verified)"))
    confirm_or_refuse(
        f"Upgrade {plan.would_upgrade} events in place (run {backup.run_id})?", yes=yes
    )
