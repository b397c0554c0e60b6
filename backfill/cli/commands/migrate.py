"""``backfill migrate``: upgrade every existing event, with backup, dry run, confirmation and report."""

from __future__ import annotations

import shlex
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

import click
from click.core import ParameterSource
from rich.markup import escape

from backfill.cli.options import (
    MAX_THREADS,
    MAX_TOTAL_SEGMENTS,
    FiniteFloat,
    allow_version_mismatch_option,
    backup_dir_option,
    command_line,
    json_option,
    require_own_store,
    require_writable_store,
    segment_or_array_index,
    store_encryption_options,
    target_options,
    yes_option,
)
from backfill.cli.pitr import check_pitr, require_pitr_option
from backfill.cli.processes import (
    GO,
    LOG_SUFFIX,
    MAX_PROCESSES,
    PLAN_SUFFIX,
    Child,
    child_argv,
    given_options,
    log_directory,
    progress_bar,
    stop_if_failed,
    watch,
    worst_exit_code,
)
from backfill.console import (
    EXIT_INTERRUPTED,
    EXIT_ITEM_FAILURES,
    EXIT_OK,
    confirm_or_refuse,
    err,
    key_value_table,
    print_json,
    refuse_without_terminal,
    verbosity,
)
from backfill.control.hooks import DEFAULT_TIMEOUT_S
from backfill.errors import BadInput, ChildrenEnded, CliError
from backfill.live.version import check_live_version
from backfill.migrate import (
    MigrationError,
    MigrationHooks,
    MigrationOptions,
    Plan,
    plan_migration,
    run_migration,
)
from backfill.migrate.plan import combine_plans, plan_state
from backfill.migrate.render import Phases, plan_view, report_view
from backfill.migrate.report import REPORT_SUFFIX, MigrationReport
from backfill.migrate.runner import RunStopped, StopBeforeWrites, require_groups
from backfill.run.backup import (
    MANIFEST_SUFFIX,
    Backup,
    BackupError,
    new_run_id,
    read_json,
    write_json,
)
from backfill.run.checkpoint import CHECKPOINT_SUFFIX, CheckpointError, load_checkpoint
from backfill.run.runs import run_id_from_environment
from backfill.run.status import StatusError, run_status
from backfill.run.store import RunStore, StoreError
from backfill.run.tally import merged
from backfill.table.aggregate_counts import (
    AUTO,
    COUNT_METHODS,
    QUERY,
    counted_by_label,
    source_table,
)
from backfill.table.target import Target
from backfill.table.units import (
    DEFAULT_PRICE_PER_MILLION_READS,
    DEFAULT_PRICE_PER_MILLION_WRITES,
    DEFAULT_WRITE_LATENCY_MS,
    Pricing,
)
from chalicelib.schema import active_schema


@dataclass(frozen=True)
class CommandLine:
    """What ``backfill migrate`` was given (its options as one value, not 25 parameters)."""

    dry_run: bool
    segments: int
    segment: int | None
    total_segments: int | None
    count_with: str
    workers: int
    rate_limit: float
    run_id: str | None
    resume: str | None
    price_per_million_writes: float
    price_per_million_reads: float
    write_latency_ms: float
    processes: int
    parent_confirms: bool
    hook_commands: tuple[str, ...]
    hook_fails_run: bool
    hook_timeout_s: float
    hook_env: tuple[str, ...]
    max_capacity: str | None
    max_iterator_age_s: float | None
    backup_dir: str
    require_pitr: bool
    allow_version_mismatch: bool
    accept_zero_counts: bool
    show_values: bool
    yes: bool
    as_json: bool

    def migration_options(self, target: Target) -> MigrationOptions:
        """The runner's options; raises UsageError for a combination it refuses."""
        options = MigrationOptions(
            backup_dir=self.backup_dir,
            segments=self.segments,
            segment=self.segment,
            total_segments=self.total_segments,
            count_with=self.count_with,
            workers=self.workers,
            rate_limit=self.rate_limit,
            resume=self.resume,
            run_id=self.run_id,
            hook_commands=self.hook_commands,
            hook_fails_run=self.hook_fails_run,
            hook_timeout_s=self.hook_timeout_s,
            hook_env=self.hook_env,
            hook_show_values=self.show_values,
            max_capacity=self.max_capacity,
            max_iterator_age_s=self.max_iterator_age_s,
            accept_zero_counts=self.accept_zero_counts,
            stage=target.stage.name if target.stage is not None and self.max_iterator_age_s is not None else None,
        )
        try:
            options.scan_layout()  # option combinations, checked before anything is read
        except MigrationError as error:
            raise click.UsageError(str(error)) from error
        return options


@click.command("migrate", short_help="Upgrade every existing item to the declaration.")
@click.option("--dry-run", is_flag=True, help="Scan and print the full plan; write nothing anywhere (no backup either).")
@click.option("--scan-threads", "segments", default=4, show_default=True, type=click.IntRange(1, MAX_THREADS), help="Threads that read the table, each one segment of a parallel scan (not --total-segments, which splits a run across workers).")
@click.option("--segment", type=click.IntRange(min=0), help="Only do segment K of --total-segments (split one table over several "
              "machines). Default: AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX when set (array jobs).")
@click.option("--total-segments", type=click.IntRange(1, MAX_TOTAL_SEGMENTS), help="Number of segments the table is split into with --segment.")
@click.option("--count-with", type=click.Choice(COUNT_METHODS), default=AUTO, show_default=True,
              help="How the declaration's aggregate is counted: scan = one parallel scan of its whole source table; "
                   "query = one consistent COUNT query per item this worker migrates (reads only its items' "
                   "source rows, but one API call per item); auto = scan for the whole table; for one segment, "
                   "query when its queries cost less client CPU than the scan (by the tables' ItemCount). The "
                   "target table and the dry run's estimate say which was used, why, and what the other would cost.")
@click.option("--writers", "workers", default=8, show_default=True, type=click.IntRange(1, MAX_THREADS), help="Concurrent writers.")
@click.option("--rate-limit", default=0.0, show_default=True, type=FiniteFloat(min=0), help="Writes per second (0 = unlimited).")
@click.option("--run-id", metavar="NAME", envvar="BACKFILL_RUN_ID",
              help="Name of a run several workers share (each with its --segment); verify/restore take it "
                   "with --run, `control NAME` steers it. A worker restarted with the same flags resumes its segment from the run store. "
                   "Default on AWS Batch: the array job's id. Env: BACKFILL_RUN_ID.")
@click.option("--resume", "resume", metavar="RUN_ID", help="Continue the run RUN_ID (looked up in --backup-dir): verifies its backup again, skips checkpointed items, counts the aggregate again.")
@click.option("--price-per-million-writes", default=DEFAULT_PRICE_PER_MILLION_WRITES, show_default=True,
              type=FiniteFloat(min=0), help="Dry run's estimate: USD per million write request units "
              "(default: us-east-1 on-demand, Standard table class).")
@click.option("--price-per-million-reads", default=DEFAULT_PRICE_PER_MILLION_READS, show_default=True,
              type=FiniteFloat(min=0), help="Dry run's estimate: USD per million read request units.")
@click.option("--write-latency-ms", default=DEFAULT_WRITE_LATENCY_MS, show_default=True,
              type=FiniteFloat(min=0), help="Dry run's estimate: time one conditional write keeps a writer busy.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, MAX_PROCESSES),
              help="Split the run over N child processes of this command on this machine (one core each), one "
                   "segment each, as one run (--run-id, or a new name): one confirmation, one progress bar, one "
                   "report; children's output goes to a log per segment. --rate-limit is shared among them. "
                   "Not with --segment/--total-segments, --resume or --dry-run.")
@click.option("--parent-confirms", is_flag=True, hidden=True,
              help="(--processes' children) count, back up and plan, save the plan in the run store, then read one "
                   "line on stdin: 'write' goes on to the writes, anything else (or none) stops before any write.")
@click.option("--max-capacity", metavar="N|P%",
              help="Write capacity the whole run may consume: N units per second, or P% of the migrated table's "
                   "write throughput (provisioned WCU, or an on-demand table's MaxWriteRequestUnits); measured "
                   "from what DynamoDB reports each write consumed, shared among the workers as measured "
                   "(each publishes its consumption in the run store; docs/control.md).")
@click.option("--max-iterator-age", "max_iterator_age_s", type=FiniteFloat(min=0), metavar="SECONDS",
              help="Hold the writes while the deployed live path (the stream functions of --stage) is more "
                   "than SECONDS behind its streams (IteratorAge in CloudWatch, read every 30 s).")
@click.option("--hook", "hook_commands", metavar="CMD", multiple=True,
              help="Run CMD (split like a shell line, not through a shell) on the run's events: start, pause, "
                   "resume, segment_done, finish, failure; a JSON description of the event on its stdin and "
                   "BACKFILL_HOOK_EVENT in its environment. Repeat for several. See docs/control.md.")
@click.option("--hook-fails-run", is_flag=True,
              help="A hook that fails (non-zero exit, cannot start, timed out) stops the run (exit 3). "
                   "Default: it is logged and the run goes on.")
@click.option("--hook-env", "hook_env", metavar="NAME", multiple=True,
              help="Pass the variable NAME of this environment to the hooks (repeat for several). A hook gets "
                   "only PATH, HOME, LANG, LC_ALL, LC_CTYPE, TZ, TMPDIR, USER, LOGNAME, BACKFILL_HOOK_EVENT and "
                   "these: no AWS credentials unless named here.")
@click.option("--hook-timeout", "hook_timeout_s", type=FiniteFloat(min=0.1), default=DEFAULT_TIMEOUT_S,
              show_default=True, help="Seconds a hook may run; then it is killed (and counts as failed).")
@click.option("--accept-zero-counts", is_flag=True,
              help="Run even when none of the aggregate's source rows read belongs to an item (a group_by attribute "
                   "on no row, or no row carrying them all), which writes 0 on every item. Without it the dry run "
                   "and the run refuse before any write (exit 3): that is almost always a mistyped group_by.")
@click.option("--show-values", is_flag=True,
              help="Show values in the plan's sample diffs and in reasons on the terminal (user data); by default "
                   "fields and their DynamoDB types, quoted values as <value>. --json has them either way.")
@backup_dir_option
@store_encryption_options
@require_pitr_option
@allow_version_mismatch_option
@yes_option
@json_option
@target_options
@command_line(CommandLine)
def command(target: Target, given: CommandLine) -> None:
    """Upgrade every existing item to the current schema.

    Shows the target, counts the aggregate's source rows (see --count-with), writes a verified backup, plans
    every item from the backup, asks for confirmation (--yes skips it; without a terminal and
    without --yes it refuses with exit code 3), then upgrades the backed-up items with
    conditional writes on owned fields only. Rows created after the backup are not touched
    here: the live stream handlers upgrade them. A run that dies is continued with --resume.

    With --stage it refuses (exit 3) when the stage's deployed live path runs another schema
    version than this declaration, unless --allow-version-mismatch. Rows of a newer version than
    this declaration are never rewritten (counted as newer_version).

    The dry run and the run refuse (exit 3) before any write when the aggregate's source rows
    belong to no item (a mistyped group_by would write 0 everywhere), unless --accept-zero-counts.

    Exit code 1 when any item was refused, failed or kept changing; the report lists them.
    Ctrl-C stops after the writes in flight, saves the checkpoint, prints the --resume command
    and exits 130.
    """
    if given.dry_run and given.resume:
        raise click.UsageError("--dry-run and --resume do not go together")
    _refuse_hook_options(given)
    require_own_store(given.backup_dir)  # what a resume continues from is read from it
    if not given.dry_run:
        check_live_version(target, "migrate", allow_mismatch=given.allow_version_mismatch)
    if given.processes > 1:
        _refuse_with_processes(given)
        _run_processes(target, given)
    given = _one_worker(given)
    options = given.migration_options(target)
    if not given.dry_run:
        if not given.parent_confirms:
            refuse_without_terminal("migrate", yes=given.yes)
        require_writable_store(given.backup_dir)
    confirmed: list[str] = []  # the run id, once writes may have started
    target.require_declared_tables()
    pitr = check_pitr(target, target.settings.target_table, required=given.require_pitr, writing=not given.dry_run)
    try:
        if given.dry_run:
            payload = {**_dry_run(target, given, options), "pitr": pitr.to_dict()}
        else:
            payload = _migrate(target, given, options, confirmed)
    except (MigrationError, BackupError, CheckpointError, StoreError) as error:
        if isinstance(error, CliError):  # its exit code (an unreachable S3 run store is 4) and hint
            raise
        raise BadInput(f"cannot migrate: {error}") from error
    except StopBeforeWrites:
        raise SystemExit(EXIT_OK) from None
    except KeyboardInterrupt:
        _interrupted(confirmed[0] if confirmed else given.resume)
    except RunStopped as stopped:
        err.print(f"[bold yellow]Stopped[/] by `backfill control`: the writes in flight finished and the checkpoint "
                  f"of run {stopped.run_id} is saved. Continue with:\n  {escape(resume_command(stopped.run_id))}",
                  soft_wrap=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    if given.as_json:
        print_json(payload)
    raise SystemExit(payload["exit_code"])


def _one_worker(given: CommandLine) -> CommandLine:
    """The segment and run of this worker (from an array job's environment when not given), checked."""
    if given.resume is not None and (given.segment is not None or given.total_segments is not None):
        raise click.UsageError("--resume continues a run as it was split: it does not go with --segment/"
                               "--total-segments (a named run's worker resumes with its --run-id and its flags)")
    segment, run_id = _array_job_worker(given.segment, given.total_segments, given.run_id)
    if segment is not None and run_id is None and not given.dry_run:
        raise click.UsageError(f"--segment {segment} --total-segments {given.total_segments} needs --run-id NAME (or "
                               "BACKFILL_RUN_ID), the same for every worker of the split: without it the segments "
                               "form no run that verify, restore, status or control can take")
    if given.parent_confirms and (run_id is None or segment is None or given.dry_run):
        raise click.UsageError("--parent-confirms is for --processes' children: it needs --run-id and --segment")
    return replace(given, segment=segment, run_id=run_id)


def _hooks(given: CommandLine, confirmed: list[str]) -> MigrationHooks:
    """The terminal's view of a run: the target, the plan and its question, progress bars."""

    def confirm(plan: Plan, backup: Backup) -> None:
        if given.parent_confirms:
            write_json(backup.store, backup.name_for(PLAN_SUFFIX), plan_state(plan))
            err.print(plan_view(plan, heading=f"Planned (backup {backup.data_uri} verified); the parent asks",
                                show_values=given.show_values, detailed=bool(verbosity())))
            if sys.stdin.readline().strip() != GO:
                err.print("The parent said stop: nothing was written.")
                raise StopBeforeWrites
        else:
            _confirm(plan, backup, yes=given.yes, show_values=given.show_values)
            err.print(f"Steer it from another terminal: {escape(control_command(backup.run, given.backup_dir))}",
                      soft_wrap=True)
        confirmed.append(backup.run_id)

    phases = Phases(err)
    return MigrationHooks(on_target=_TargetView().show, confirm=confirm, progress=phases.phase,
                          on_pause=phases.paused)


class _TargetView:
    """The target: a table with -v; by default one line, then one more with what the scans counted."""

    def __init__(self) -> None:
        self.shown: set[str] = set()

    def show(self, description: dict[str, Any]) -> None:
        if verbosity():
            err.print(key_value_table("Target", description))
            return
        new = {name: value for name, value in description.items() if name not in self.shown}
        self.shown |= set(new)
        where = f"{new.pop('endpoint')} ({new.pop('region')}): " if "endpoint" in new else ""
        figures = ", ".join(f"{name} {value}" for name, value in new.items())
        err.print(escape(f"{'Target' if where else 'Counted'}: {where}{figures}"))


def _dry_run(target: Target, given: CommandLine, options: MigrationOptions) -> dict[str, Any]:
    pricing = Pricing(given.price_per_million_writes, given.price_per_million_reads, given.write_latency_ms)
    result = plan_migration(target, options, _hooks(given, []), pricing)
    err.print(plan_view(result.plan, heading="Dry run: nothing was written", show_values=given.show_values,
                        detailed=bool(verbosity())))
    estimate = _flat(result.estimate)
    if not verbosity():  # the figures a go/no-go needs, and any advice; every row with -v or --json
        estimate = {name: value for name, value in estimate.items() if name in ESTIMATE_SHOWN or "consider" in str(value)}
    err.print(key_value_table("Estimate of the real run (DynamoDB's rounding rules)", estimate))
    return result.to_dict()


def _migrate(target: Target, given: CommandLine, options: MigrationOptions, confirmed: list[str]) -> dict[str, Any]:
    report = run_migration(target, options, _hooks(given, confirmed))
    err.print(report_view(report, show_values=given.show_values, detailed=bool(verbosity())))
    _next_step(report.tally.refused)
    return report.to_dict()


def _next_step(refused: list[Any]) -> None:
    """After refused items, what to do about them is the last thing said."""
    if refused:
        err.print(f"Next: {len(refused)} refused item(s) were left as they are. Correct them (by hand, or by an "
                  "alias in the declaration) and run migrate again: it upgrades what is left and skips the rest. "
                  "Or accept them: verify will list them as refused until they change.")


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


def control_command(run: str, backup_dir: str) -> str:
    return f"backfill control {shlex.quote(run)} status|pause|resume|rate N|stop --backup-dir {shlex.quote(backup_dir)}"


def resume_command(run_id: str) -> str:
    """The command line that continues ``run_id``: the options this run was given, plus --resume."""
    ctx = click.get_current_context()
    named = ctx.params.get("run_id") is not None  # a named run resumes with its own flags, no --resume
    words = ["backfill", "migrate"] if named else ["backfill", "migrate", "--resume", run_id]
    return shlex.join(words + given_options(ctx, skip=("resume", "dry_run")))


def _refuse_hook_options(given: CommandLine) -> None:
    ctx = click.get_current_context()
    timeout_given = ctx.get_parameter_source("hook_timeout_s") is ParameterSource.COMMANDLINE
    if (given.hook_fails_run or timeout_given or given.hook_env) and not given.hook_commands:
        option = "--hook-fails-run" if given.hook_fails_run else "--hook-timeout" if timeout_given else "--hook-env"
        raise click.UsageError(f"{option} goes with --hook CMD")
    if given.dry_run and given.hook_commands:
        raise click.UsageError("--hook does not go with --dry-run: a dry run has no events to hook")


def _refuse_with_processes(given: CommandLine) -> None:
    """--processes makes the segments itself: options that choose a segment or a run another way are refused."""
    if given.segment is not None or given.total_segments is not None:
        raise click.UsageError("--processes splits the run itself: it does not go with --segment/--total-segments "
                               "(on several machines, start one worker per segment instead)")
    if segment_or_array_index(None) is not None:
        raise click.UsageError("--processes does not go with an array job's index (AWS_BATCH_JOB_ARRAY_INDEX, "
                               "JOB_COMPLETION_INDEX): each array child is one segment already")
    if given.resume is not None:
        raise click.UsageError("--processes does not go with --resume: continue the run with the same --run-id "
                               "and --processes")
    if given.dry_run:
        raise click.UsageError("--dry-run does not go with --processes: a dry run writes nothing; run it in one process")


ESTIMATE_SHOWN = ("read units", "write units", "on-demand price (USD)", "write duration (s)", "duration bound by")


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


def _confirm(plan: Plan, backup: Backup, *, yes: bool, show_values: bool) -> None:
    err.print(plan_view(plan, heading=f"Plan (backup {backup.data_uri} verified)", show_values=show_values,
                        detailed=bool(verbosity())))
    confirm_or_refuse(
        f"Upgrade {plan.would_upgrade} items in place (run {backup.run_id})?", yes=yes
    )


# --- --processes N: the parent ---------------------------------------------------------------

# Options the parent decides for its children (or that only the parent acts on).
_PARENT_ONLY = ("processes", "parent_confirms", "run_id", "resume", "dry_run", "segment", "total_segments",
                "rate_limit", "yes", "as_json")


def _run_processes(target: Target, given: CommandLine) -> NoReturn:
    """N children (``--parent-confirms``) count, back up and plan their segment, save the plan
    and wait; the parent shows the combined plan and asks once, then tells every child to write
    (or to stop). One progress bar, one report. Exit code: the worst of the children's and the
    combined report's."""
    parent = _Parent.prepare(target, given)
    parent.start_children()
    parent.confirm()
    parent.write_and_report()


@dataclass
class _Parent:
    """The parent of ``--processes N``: its run, its children, and what they leave in the run store."""

    given: CommandLine
    run: str
    store: RunStore
    names: list[str]  # each segment's backup id, segment order
    resume: str  # the command line that continues this run
    description: dict[str, Any]
    started: float
    children: list[Child] = field(default_factory=list)

    @classmethod
    def prepare(cls, target: Target, given: CommandLine) -> _Parent:
        """Checks, the target shown, PITR checked once (before any child starts), no stale plans."""
        ctx, processes = click.get_current_context(), given.processes
        table = target.settings.target_table
        run = given.run_id or new_run_id(table, None, processes)
        try:
            MigrationOptions(run_id=run, segment=0, total_segments=processes).scan_layout()
        except MigrationError as error:
            raise click.UsageError(str(error)) from error
        refuse_without_terminal("migrate", yes=given.yes)
        require_writable_store(given.backup_dir)
        started = time.monotonic()
        description = target.describe(counts=False)
        _TargetView().show(description)
        target.require_declared_tables()
        check_pitr(target, table, required=given.require_pitr)
        # The source's groups checked once, here, so a refusal is one line and no child starts.
        options = MigrationOptions(accept_zero_counts=given.accept_zero_counts)
        require_groups(target, options, options.count_choice(), None)
        resume = shlex.join(["backfill", "migrate", *given_options(ctx, skip=("run_id", "processes", "dry_run")),
                             "--run-id", run, "--processes", str(processes)])
        parent = cls(given, run, target.run_store(given.backup_dir),
                     [new_run_id(table, [k], processes, run=run) for k in range(processes)],
                     resume, description, started)
        for name in parent.plans:  # an earlier attempt's plan is not this attempt's
            if parent.store.exists(name):
                parent.store.delete(name)
        return parent

    @property
    def plans(self) -> list[str]:
        return [name + PLAN_SUFFIX for name in self.names]

    def start_children(self) -> None:
        given, run, processes = self.given, self.run, self.given.processes
        logs = log_directory(self.store)
        options = given_options(click.get_current_context(), skip=_PARENT_ONLY)
        self.children = [
            Child(k, child_argv("migrate", options, run_id=run, segment=k, total=processes,
                                rate_limit=given.rate_limit, extra=["--parent-confirms"]),
                  logs / (self.names[k] + LOG_SUFFIX))
            for k in range(processes)]
        err.print(f"Run {run}: {processes} processes, logs in {logs}/{run}-seg*of{processes}{LOG_SUFFIX}",
                  soft_wrap=True)
        err.print(f"Steer it from another terminal: {escape(control_command(run, given.backup_dir))}", soft_wrap=True)
        for child in self.children:
            child.start(None, stdin_pipe=True)

    def confirm(self) -> None:
        """Every child planned: the combined plan shown and asked about once. Otherwise (a child
        failed, Ctrl-C, refused, answered no) every child is told to stop before any write."""
        children = self.children
        try:
            plan = self._combined_plan()
            err.print(plan_view(plan, heading=f"Plan (run {self.run}: {len(children)} backups verified)",
                                show_values=self.given.show_values, detailed=bool(verbosity())))
            confirm_or_refuse(f"Upgrade {plan.would_upgrade} items in place (run {self.run}, {len(children)} "
                              "processes)?", yes=self.given.yes)
        except _Stop as stop:  # a child failed or Ctrl-C before any write: the others stop too
            self._tell_all("stop")
            watch(children, interrupted=stop.interrupted)
            stop_if_failed(children, stop.interrupted, self.resume, state="nothing was written to the table")
            ended = [c.segment for c in children if c.returncode is not None]
            raise ChildrenEnded(f"cannot migrate: segment(s) {ended} ended before planning (see the logs); "
                                "nothing was written") from None
        except BaseException:  # refused, answered no, or Ctrl-C at the question
            self._tell_all("stop")
            watch(children, interrupted=True)
            err.print(f"Nothing was written; the backups are kept. The same run continues with:\n  "
                      f"{escape(self.resume)}", soft_wrap=True)
            raise

    def _combined_plan(self) -> Plan:
        store, processes = self.store, len(self.children)

        def planned() -> int:
            return sum(store.exists(name) for name in self.plans)

        with progress_bar(f"backing up and planning {processes} segments", processes) as update:
            interrupted = watch(self.children, until=lambda: planned() == processes,
                                on_poll=lambda: update(planned()))
        if interrupted or any(not child.running for child in self.children):
            raise _Stop(interrupted)
        try:
            return combine_plans([read_json(store, name) for name in self.plans])
        except (OSError, ValueError, KeyError, StoreError) as error:
            raise BadInput(f"cannot migrate: a segment's plan is unreadable: {error}") from error

    def _tell_all(self, line: str) -> None:
        for child in self.children:
            child.tell(line)

    def write_and_report(self) -> NoReturn:
        store, run, children = self.store, self.run, self.children
        self._tell_all(GO)
        total = sum(int(read_json(store, name + MANIFEST_SUFFIX)["item_count"]) for name in self.names)

        def finished() -> int:
            try:
                return sum(s.done or 0 for s in run_status(store, run, total_segments=len(children)))
            except (StatusError, StoreError):
                return 0

        with progress_bar("migrating", total) as update:
            interrupted = watch(children, on_poll=lambda: update(finished()))
        report = _combined_report(store, run, self.names, children, self.description,
                                  time.monotonic() - self.started)
        err.print(report_view(report, show_values=self.given.show_values, detailed=bool(verbosity())))
        _next_step(report.tally.refused)
        stop_if_failed(children, interrupted, self.resume,
                       state="every segment's checkpoint keeps the items it finished")
        payload = {**report.to_dict(), "processes": len(children),
                   "segments": [{"segment": c.segment, "exit_code": c.exit_code, "log": str(c.log)} for c in children]}
        payload["exit_code"] = worst_exit_code([report.exit_code, *(c.exit_code for c in children)])
        if self.given.as_json:
            print_json(payload)
        raise SystemExit(payload["exit_code"])


class _Stop(Exception):  # noqa: N818 - control flow of _run_processes
    def __init__(self, interrupted: bool) -> None:
        super().__init__("stop")
        self.interrupted = interrupted


def _combined_report(store: RunStore, run: str, names: list[str], children: list[Child],
                     description: dict[str, Any], duration_s: float) -> MigrationReport:
    """The whole run's report: tallies from every segment's checkpoint, this attempt's figures
    from the reports of the children that finished."""
    tallies, items, processed, resumed, rows = [], 0, 0, 0, 0
    counts = bool(active_schema().aggregates)  # without an aggregate nothing is counted
    calls: Counter[str] = Counter()
    http: Counter[str] = Counter()
    completed = True
    for name, child in zip(names, children, strict=True):
        checkpoint = load_checkpoint(store, name + CHECKPOINT_SUFFIX, name)
        completed = completed and checkpoint is not None and checkpoint.completed
        if checkpoint is not None:
            tallies.append(checkpoint.tally())
        items += int(read_json(store, name + MANIFEST_SUFFIX)["item_count"])
        if child.exit_code in (EXIT_OK, EXIT_ITEM_FAILURES) and store.exists(name + REPORT_SUFFIX):
            part = read_json(store, name + REPORT_SUFFIX)
            processed += int(part["processed_this_attempt"])
            resumed += int(part["resumed_after"])
            if counts:  # a child that scanned counted the whole source table; one that queried, its items' rows
                counted_by = str(part["target"].get(counted_by_label(), ""))
                counted = int(part["aggregate"]["source_rows_counted"])
                rows = rows + counted if counted_by.startswith(QUERY) else max(rows, counted)
                description = {**description, counted_by_label(): counted_by}
            calls.update(part["requests"]["calls"])
            http.update(part["requests"]["http"])
    description = {**description, active_schema().table: items, **({source_table(): rows} if counts else {})}
    return MigrationReport(run_id=run, backup_file=f"{store.location} (run {run}, {len(names)} segments)",
                           backup_items=items, target=description, tally=merged(tallies), duration_s=duration_s,
                           processed=processed, resumed_after=resumed, source_rows=rows,
                           requests=dict(calls), http_requests=dict(http), completed=completed)
