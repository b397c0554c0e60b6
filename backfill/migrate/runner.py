"""Run a migration: counts, backup, plan, confirmation, bounded writer pool, checkpoints, report.

The library entry points (``run_migration``, ``plan_migration``) take a ``Target`` and plain
options, so the CLI, the demo and the benchmark all run the exact same code in-process.

Every item migrated is read from the backup, not from a second scan: so every row this run
writes is in the backup and restore is exact. Rows created after the backup are upgraded by the
live stream handler, not here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from backfill.control.hooks import DEFAULT_TIMEOUT_S, HookFailed, HookRunner
from backfill.control.meter import CapacityMeter
from backfill.control.steering import Steering, Stopped, Throttles
from backfill.control.throttle import CapacityGovernor, LagWatch, capacity_limit
from backfill.control.worker import WorkerState
from backfill.errors import Refused
from backfill.migrate.estimate import MigrationEstimate
from backfill.migrate.plan import Plan, build_plan
from backfill.migrate.ratelimit import RateLimiter
from backfill.migrate.report import REPORT_SUFFIX, MigrationReport
from backfill.run.backup import (
    MANIFEST_SUFFIX,
    Backup,
    BackupError,
    iter_backup_items,
    load_backup,
    new_run_id,
    verify_backup,
    write_json,
)
from backfill.run.checkpoint import CHECKPOINT_SUFFIX, Checkpoint, check_against, load_checkpoint
from backfill.run.item_failures import ItemFailures, describe
from backfill.run.ledger import LEDGER_SUFFIX, Ledger
from backfill.run.runs import runs_in
from backfill.run.seal import check_checkpoint, read_seal
from backfill.run.status import StatusError, run_status
from backfill.run.store import RunStore, StoreError, split_location
from backfill.run.tally import Tally, add_failure, add_outcome
from backfill.table.aggregate_counts import (
    NONE,
    QUERY,
    SCAN,
    CountChoice,
    CountStore,
    SpillingCounts,
    choose_count_method,
    choose_for_tables,
    count_by_query,
    count_groups,
    counted_by_label,
    source_table,
)
from backfill.table.backup import create_backup
from backfill.table.request_counter import RequestCounter
from backfill.table.scan import parallel_scan
from backfill.table.source_groups import ItemsMatched, SourceRows, sample_source
from backfill.table.target import Target
from backfill.table.units import Pricing, item_size
from chalicelib.config import function_names
from chalicelib.item_store import ItemStore
from chalicelib.items import to_python, to_typed
from chalicelib.planner import WritePlan, unmaintained
from chalicelib.schema import active_schema
from chalicelib.upgrader import (
    CountSource,
    UpgradeOutcome,
    UpgradeResult,
    keep_maintained_count,
    upgrade_in_place,
)

log = logging.getLogger(__name__)

# (description, total or None) -> context manager yielding advance(n)
ProgressFactory = Callable[[str, "int | None"], AbstractContextManager[Callable[[int], None]]]


RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class MigrationError(Exception):
    """The run cannot start or continue (bad options, wrong or damaged backup/checkpoint)."""


class RunStopped(Exception):  # noqa: N818 - not an error: `backfill control RUN stop` asked for it
    """The run was told to stop: the writes in flight finished and the checkpoint is saved."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} stopped by `backfill control`")
        self.run_id = run_id


class StopBeforeWrites(Exception):  # noqa: N818 - not an error: the run was asked to stop here
    """Raised by ``hooks.confirm`` to end a worker after its backup and plan, before any write
    (``--parent-confirms``: the parent of ``--processes`` asks once for every segment)."""


@dataclass(frozen=True)
class MigrationOptions:
    backup_dir: str | Path = Path("backups")  # the run store: a directory or s3://bucket/prefix
    segments: int = 4  # parallel scan segments (threads) when one machine does the whole table
    segment: int | None = None  # with total_segments: this worker does only segment K of N
    total_segments: int | None = None
    workers: int = 8
    rate_limit: float = 0.0  # writes per second; 0 = unlimited
    resume: str | None = None  # run id to continue
    run_id: str | None = None  # name of a run several workers share; a retried worker resumes its part
    checkpoint_every: int = 25  # items finished between checkpoint saves
    items_per_task: int = 8  # items a writer takes at a time (fewer when the table is small)
    samples: int = 3  # sample before/after diffs in the plan
    count_with: str = "auto"  # the aggregate's source counted by: scan | query | auto (backfill.table.aggregate_counts)
    hook_commands: tuple[str, ...] = ()  # --hook: run on the run's events (backfill.control.hooks)
    hook_fails_run: bool = False
    hook_timeout_s: float = DEFAULT_TIMEOUT_S
    hook_env: tuple[str, ...] = ()  # --hook-env: variables a hook gets by name (backfill.control.hooks)
    hook_show_values: bool = False  # --show-values: a hook's payload keeps the values reasons quote
    max_capacity: str | None = None  # write units/s ("N") or a share of the table's throughput ("P%")
    max_iterator_age_s: float | None = None  # hold the writes while the live path lags more than this
    stage: str | None = None  # the deployed stage whose stream functions' IteratorAge is watched
    accept_zero_counts: bool = False  # run even when no source row read belongs to an item (source_groups)

    def scan_layout(self) -> tuple[int, list[int] | None]:
        """(TotalSegments, the segments this worker scans or None for all). Raises MigrationError."""
        if self.workers < 1:
            raise MigrationError(f"--writers must be at least 1, not {self.workers}")
        if self.rate_limit < 0:
            raise MigrationError(f"--rate-limit must be 0 (unlimited) or positive, not {self.rate_limit}")
        if self.run_id is not None and not RUN_NAME.fullmatch(self.run_id):
            raise MigrationError(f"--run-id {self.run_id!r} must be 1-100 letters, digits, '.', '_' or '-'")
        if self.max_capacity is not None:
            try:
                capacity_limit(self.max_capacity, {"ProvisionedThroughput": {"WriteCapacityUnits": 1}})
            except ValueError as error:
                raise MigrationError(str(error)) from error
        if self.max_iterator_age_s is not None and self.stage is None:
            raise MigrationError("--max-iterator-age needs --stage NAME: the stage names the stream functions whose "
                                 "IteratorAge is watched")
        if self.run_id is not None and self.resume is not None:
            raise MigrationError("--run-id and --resume do not go together (a named run resumes by itself)")
        if (self.segment is None) != (self.total_segments is None):
            raise MigrationError("--segment and --total-segments go together")
        if self.segment is not None and self.total_segments is not None:
            if not 0 <= self.segment < self.total_segments:
                raise MigrationError(f"--segment {self.segment} is not in 0..{self.total_segments - 1}")
            self.count_choice()
            return self.total_segments, [self.segment]
        self.count_choice()
        if self.segments < 1:
            raise MigrationError(f"--scan-threads must be at least 1, not {self.segments}")
        return self.segments, None

    def count_choice(self, target: Target | None = None) -> CountChoice:
        """How the aggregate's source is counted (``backfill.table.aggregate_counts``); ``auto`` for one segment
        compares the methods by the tables' item counts (DescribeTable) when ``target`` is given."""
        split = self.total_segments if self.segment is not None else None
        try:
            if target is None or not active_schema().aggregates:
                return choose_count_method(self.count_with, split=split)
            return choose_for_tables(target.dynamodb, self.count_with, split=split,
                                     target_table=target.settings.target_table,
                                     source_table=target.settings.source_table())
        except ValueError as error:
            raise MigrationError(str(error)) from error

    def task_size(self, items: int) -> int:
        """Items per writer task: ``items_per_task``, fewer when that would idle writers."""
        return max(1, min(self.items_per_task, items // (2 * self.workers)))

    def in_flight_limit(self) -> int:
        """Most items handed to writers and not yet collected (what a crash can leave redone)."""
        return 2 * self.workers * self.items_per_task

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


@dataclass
class MigrationHooks:
    """How a caller watches and steers a run. Defaults: silent, no confirmation asked."""

    on_target: Callable[[dict[str, Any]], None] = lambda description: None
    # Called with the plan before the first write; raise (e.g. SystemExit) to stop the run.
    confirm: Callable[[Plan, Backup], None] = lambda plan, backup: None
    progress: ProgressFactory = field(default=lambda description, total: contextlib.nullcontext(lambda n: None))
    # Called (from the steering thread) when `backfill control` pauses (True) or resumes the run, with who did.
    on_pause: Callable[[bool, str], None] = lambda paused, by: None


@dataclass
class DryRun:
    target: dict[str, Any]
    plan: Plan
    source_rows: int
    duration_s: float
    requests: dict[str, int]
    estimate: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 once the plan is made, even when a real run would refuse rows (the plan counts and
        lists them): a dry run that exits 1 reads to a script as a dry run that failed."""
        return 1 if self.plan.tally.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "target": self.target,
            **self.plan.to_dict(),
            "source_rows_counted": self.source_rows,
            "duration_s": round(self.duration_s, 3),
            "requests": dict(sorted(self.requests.items())),
            "estimate": self.estimate,
            "exit_code": self.exit_code,
        }


def plan_migration(
    target: Target, options: MigrationOptions, hooks: MigrationHooks | None = None, pricing: Pricing | None = None
) -> DryRun:
    """The dry run: scan the live table and plan every item. Sends no write of any kind.

    It also estimates what the real run will cost (requests, capacity units, on-demand price at
    ``pricing``, duration at ``options.workers`` / ``options.rate_limit``) from the items it scans.
    """
    hooks = hooks or MigrationHooks()
    estimate = MigrationEstimate(pricing or Pricing())
    total_segments, segments = options.scan_layout()
    started = time.monotonic()
    with RequestCounter().attach(target.dynamodb) as counter, SpillingCounts() as counts:
        description = target.describe(counts=False)
        hooks.on_target(description)
        choice = options.count_choice(target)
        seen = _count(target, options, hooks, counts) if choice.method == SCAN else None
        require_groups(target, options, choice, seen)
        count_source = keep_maintained_count(counts.get)
        with hooks.progress(f"planning (scan of {active_schema().table})", None) as advance:
            items = _scanned_items(target, total_segments, segments, advance)
            if choice.method == QUERY:  # each page's items counted before they are planned
                items = _query_counts(target, options, counts, items)
            items, matched = _watch_matches(choice, segments, counts, items)
            plan = build_plan(
                items, count_source, samples=options.samples,
                observe=lambda item, item_plan: _observe_cost(estimate, item, item_plan, counts),
            )
        require_matches(target, options, matched, seen)
        _estimate_source(target, estimate, counts, choice)
        _add_counts(description, items=plan.total, rows=counts.total(), choice=choice)
        hooks.on_target(description)
        summary = estimate.summary(workers=options.workers, rate_limit=options.rate_limit)
        return DryRun(description, plan, counts.total(), time.monotonic() - started, counter.calls(), summary)


def run_migration(target: Target, options: MigrationOptions, hooks: MigrationHooks | None = None) -> MigrationReport:
    """Back up, plan, confirm (via ``hooks.confirm``), migrate and report. See the module doc."""
    hooks = hooks or MigrationHooks()
    total_segments, segments = options.scan_layout()
    started = time.monotonic()
    with RequestCounter().attach(target.dynamodb) as counter:
        # Endpoint and tables first; the item counts come from the scans the run needs anyway
        # (a separate COUNT scan of each table would double the reads before the first write).
        description = target.describe(counts=False)
        hooks.on_target(description)
        store = target.run_store(options.backup_dir)
        run_name: str | None = None
        if options.run_id:
            run_name = options.run_id
            options = _join_run(store, target.settings.target_table, options, total_segments, segments)
        # Every worker publishes its state and obeys the run's control record, named or not
        # (an unnamed run is steered by its backup id); a run resumed from a path has no name here.
        name = options.resume or new_run_id(target.settings.target_table, segments, total_segments, run=run_name)
        worker = WorkerState(None if "/" in name else store, name)
        worker.save("running", run=run_name or name, segments=segments or list(range(total_segments)),
                    total_segments=total_segments)
        hook_runner = HookRunner(options.hook_commands, options.hook_fails_run, options.hook_timeout_s, context={
            "run": run_name or name, "worker": name, "segments": segments or list(range(total_segments)),
            "total_segments": total_segments, "run_store": str(options.backup_dir)},
            env_names=options.hook_env, show_values=options.hook_show_values)
        try:
            with SpillingCounts() as counts:
                return _Worker(target, options, hooks, store, worker, counter, description, started,
                               total_segments, segments, run_name, hook_runner).run(counts)
        except RunStopped:
            worker.save("stopped")
            raise
        except StopBeforeWrites:
            worker.save("prepared")
            raise
        except BaseException as error:
            worker.save("interrupted" if isinstance(error, KeyboardInterrupt) else "failed",
                        error=f"{type(error).__name__}: {error}")
            if isinstance(error, Exception):
                hook_runner.fire("failure", error=f"{type(error).__name__}: {error}")
            raise


@dataclass
class _Worker:
    """One worker of a run (the whole table, or its segments of a split): what each step needs."""

    target: Target
    options: MigrationOptions
    hooks: MigrationHooks
    store: RunStore
    state: WorkerState
    counter: RequestCounter
    description: dict[str, Any]
    started: float
    total_segments: int
    segments: list[int] | None
    run_name: str | None
    hook_runner: HookRunner

    def run(self, counts: CountStore) -> MigrationReport:
        """Count, back up, plan, confirm, write, report."""
        choice = self.options.count_choice(self.target)
        resumed = self._resumed() if self.options.resume else None
        seen = _count(self.target, self.options, self.hooks, counts) if choice.method == SCAN else None
        require_groups(self.target, self.options, choice, seen)
        backup, checkpoint = resumed or self._new_backup()
        count_source = keep_maintained_count(counts.get)
        plan, matched = self._plan(backup, checkpoint, count_source, counts, choice)
        if checkpoint.finished_items == 0:  # a resumed run's finished items are not read again
            require_matches(self.target, self.options, matched, seen)
        self.hooks.confirm(plan, backup)
        resumed_after = checkpoint.finished_items
        self.hook_runner.fire("start", items=backup.item_count, finished_before=resumed_after)
        processed = self._write(backup, checkpoint, count_source, resumed_after)
        report = MigrationReport(
            run_id=backup.run_id,
            backup_file=backup.data_uri,
            backup_items=backup.item_count,
            target=self.description,
            tally=checkpoint.tally(),
            duration_s=time.monotonic() - self.started,
            processed=processed,
            resumed_after=resumed_after,
            source_rows=counts.total(),
            requests=self.counter.calls(),
            http_requests=self.counter.sends(),
            completed=checkpoint.completed,
        )
        self._finish(backup, report)
        return report

    def _resumed(self) -> tuple[Backup, Checkpoint]:
        backup = _backup_to_resume(self.target, self.options)
        # the checkpoint against the run's seal before it is read (the ledger is not read by a resume;
        # restore checks it)
        seal = read_seal(backup.store, backup.run_id, required=bool(backup.manifest.get("sealed")))
        if seal is not None:
            check_checkpoint(backup.store, backup.run_id, seal)
        name = backup.name_for(CHECKPOINT_SUFFIX)
        checkpoint = load_checkpoint(backup.store, name, backup.run_id) or Checkpoint(backup.run_id, self.options.to_dict())
        check_against(checkpoint, backup, backup.store.uri(name))
        return backup, checkpoint

    def _new_backup(self) -> tuple[Backup, Checkpoint]:
        target = self.target
        with self.hooks.progress(f"backing up {active_schema().table}", None) as advance:
            backup = create_backup(
                target.dynamodb,
                target.settings.target_table,
                self.store,
                region=target.settings.region,
                endpoint=target.endpoint,
                total_segments=self.total_segments,
                segments=self.segments,
                run_id=self.state.name,
                run=self.run_name,
                on_items=advance,
            )
        checkpoint = Checkpoint(backup.run_id, self.options.to_dict())
        checkpoint.save(backup.store, backup.name_for(CHECKPOINT_SUFFIX))
        return backup, checkpoint

    def _plan(self, backup: Backup, checkpoint: Checkpoint, count_source: CountSource, counts: CountStore,
              choice: CountChoice) -> tuple[Plan, ItemsMatched | None]:
        with contextlib.ExitStack() as stack:
            items: Iterator[dict[str, Any]] = (to_python(item) for _, _, item in _remaining(backup, checkpoint))
            if choice.method == QUERY:  # after the backup: each count taken after its countVersion was read
                advance = stack.enter_context(
                    self.hooks.progress(f"counting {source_table()} rows (one query per item)", None))
                items = _query_counts(self.target, self.options, counts, items, advance)  # as the plan reads them
            items, matched = _watch_matches(choice, self.segments, counts, items)
            plan = build_plan(items, count_source, samples=self.options.samples)
        _add_counts(self.description, items=backup.item_count, rows=counts.total(), choice=choice)
        self.hooks.on_target(self.description)
        return plan, matched

    def _write(self, backup: Backup, checkpoint: Checkpoint, count_source: CountSource, resumed_after: int) -> int:
        """The write loop under the run's steering (rate, capacity, live-path lag, control record);
        returns how many items it examined. Raises HookFailed, RunStopped."""
        target, options, hook_runner = self.target, self.options, self.hook_runner

        def on_pause(paused: bool, record: Any) -> bool:
            self.hooks.on_pause(paused, record.by)
            return hook_runner.fire_quietly("pause" if paused else "resume", by=record.by)

        share = len(self.segments or range(self.total_segments)) / self.total_segments
        run_capacity = _capacity(target, options)
        governor = CapacityGovernor(run_capacity * share)  # until the workers' measured figures say otherwise
        meter = CapacityMeter(on_units=governor.spend, on_throttle=governor.throttled).attach(target.dynamodb)
        lag = None
        if options.max_iterator_age_s is not None and options.stage is not None:
            lag = LagWatch(target.client("cloudwatch"), function_names(options.stage), options.max_iterator_age_s,
                           governor).start()
        throttles = Throttles(RateLimiter(options.rate_limit), share, governor, meter, lag, run_capacity)
        steering = Steering(self.state.store, backup.run, self.state, throttles, on_pause=on_pause)
        with meter, self.hooks.progress("migrating", backup.item_count - resumed_after) as advance:
            steering.start(items=backup.item_count, done=resumed_after)
            try:
                processed = _migrate(target, options, backup, checkpoint, count_source, advance, steering)
            finally:
                steering.close()
                if lag is not None:
                    lag.close()
        if hook_runner.failed:
            raise HookFailed(hook_runner.failed)
        if steering.stopping:
            raise RunStopped(backup.run_id)
        return processed

    def _finish(self, backup: Backup, report: MigrationReport) -> None:
        """The report saved beside the backup, the worker's state, and the hooks told."""
        write_json(backup.store, backup.name_for(REPORT_SUFFIX), report.to_dict())
        self.state.save("done" if report.exit_code == 0 else "done_with_problems", problems=report.problems)
        if report.completed:
            summary = {"exit_code": report.exit_code, "tally": report.tally.to_dict()}
            self.hook_runner.fire("segment_done", **summary)
            if _run_finished(backup, self.segments):
                self.hook_runner.fire("finish", **summary)


def _capacity(target: Target, options: MigrationOptions) -> float:
    """The whole run's write units per second from --max-capacity (0: no limit)."""
    if options.max_capacity is None:
        return 0.0
    described = target.dynamodb.describe_table(TableName=target.settings.target_table)["Table"]
    try:
        return capacity_limit(options.max_capacity, described)
    except ValueError as error:
        raise MigrationError(str(error)) from error


def _run_finished(backup: Backup, segments: list[int] | None) -> bool:
    """Whether every segment of ``backup``'s run is done (this worker's included)."""
    if segments is None:
        return True
    try:
        return all(s.finished for s in run_status(backup.store, backup.run))
    except (StatusError, StoreError):
        return False


# --- steps -----------------------------------------------------------------------------------

def _observe_cost(estimate: MigrationEstimate, item: Any, item_plan: UpgradeOutcome, counts: CountStore) -> None:
    item_name = _id_to_count(item)
    if item_name is not None:
        estimate.observe_count(counts.get(item_name))
    typed = to_typed(item)
    after = None
    if item_plan.result is UpgradeResult.UPGRADED:
        written = {**typed, **to_typed(item_plan.changes)}
        after = item_size({name: value for name, value in written.items() if name not in item_plan.removes})
    estimate.observe(item_size(typed), after)


def _estimate_source(
    target: Target, estimate: MigrationEstimate, counts: CountStore, choice: CountChoice
) -> None:
    """Counting costs the rows' full size; DescribeTable reports it (0 = not reported). A scan
    counted the whole table's rows; queries only this process's, so the table's rows are the
    reported ItemCount when there is one. Nothing to count without an aggregate."""
    estimate.count_method, estimate.count_choice = choice.method, choice.describe()
    if choice.method == NONE:
        return
    table = target.settings.source_table()
    described = target.dynamodb.describe_table(TableName=table)["Table"]
    reported, reported_rows = int(described.get("TableSizeBytes", 0)), int(described.get("ItemCount", 0))
    rows = counts.total()
    estimate.source_rows = rows if choice.method != QUERY else max(rows, reported_rows)
    estimate.source_bytes = reported or None
    # Lower bound: the key attributes' names and the item names the scan returned (names >= 1 byte).
    estimate.source_bytes_lower_bound = rows * (sum(map(len, active_schema().aggregates[0].source.key.names)) + 1) + sum(
        n * len(name.encode("utf-8")) for name, n in counts.items()
    )


def _add_counts(description: dict[str, Any], *, items: int, rows: int, choice: CountChoice) -> None:
    """Items and source rows under their tables' declared names (like ``Target.describe``)."""
    description[active_schema().table] = items
    if choice.method != NONE:
        description[source_table()] = rows
        description[counted_by_label()] = choice.describe()


def _count(target: Target, options: MigrationOptions, hooks: MigrationHooks, counts: CountStore) -> SourceRows:
    """--count-with scan: the source rows are spread over the whole source table whatever
    segment of the target this worker does, so the scan reads all of it. Returns what it saw."""
    seen = SourceRows()
    with hooks.progress(f"counting {source_table()} rows (scan)", None) as advance:
        count_groups(target.dynamodb, target.settings.source_table(), max(1, options.segments),
                     on_rows=advance, store=counts, seen=seen)
    return seen


def require_groups(target: Target, options: MigrationOptions, choice: CountChoice, seen: SourceRows | None) -> None:
    """Refuse (exit 3) before any write when the source rows read (the counting scan's, else a
    sample) say the aggregate's group_by cannot be right: every count would be 0
    (``backfill.table.source_groups``). Not without an aggregate, nor with --accept-zero-counts."""
    if choice.method == NONE or options.accept_zero_counts:
        return
    aggregate, table = active_schema().aggregates[0], target.settings.source_table()
    if seen is None:
        seen = sample_source(target.dynamodb, table, aggregate)
    problem = seen.problem(aggregate, table)
    if problem:
        raise Refused(f"refusing to migrate, nothing was written: {problem}",
                      hint="check the aggregate's group_by in the declaration against the rows of "
                           f"{table}; or, if no row there belongs to an item, give --accept-zero-counts")


def _query_counts(
    target: Target, options: MigrationOptions, counts: CountStore, items: Iterator[dict[str, Any]],
    advance: Callable[[int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """--count-with query: ``items`` (typed or plain) passed through, each item whose count the
    live path does not maintain counted first by a consistent COUNT query, --writers at a time."""
    return count_by_query(target.dynamodb, target.settings.source_table(), items, _id_to_count, counts,
                          threads=options.workers, on_items=advance)


def _id_to_count(item: dict[str, Any]) -> str | None:
    """The name of the item (typed or plain) whose aggregate needs computing; None when it is
    kept (the live path maintains it) or its key is not valid (the rule refuses it)."""
    if not unmaintained(item):
        return None
    return _item_name(item)


def _item_name(item: dict[str, Any]) -> str | None:
    """The name of an item (typed or plain), None when its key is not valid."""
    key = active_schema().key
    values = [item.get(name) for name in key.names]
    return key.name_of({name: v.get("S") if isinstance(v, dict) else v for name, v in zip(key.names, values, strict=True)})


def _watch_matches(choice: CountChoice, segments: list[int] | None, counts: CountStore,
                   items: Iterator[dict[str, Any]]) -> tuple[Iterator[dict[str, Any]], ItemsMatched | None]:
    """``items``, watched for one with source rows counted when the run scanned the whole source
    for the whole table (a segment's items may all lack rows that belong to other segments)."""
    if choice.method != SCAN or segments is not None:
        return items, None
    matched = ItemsMatched(counts.get)
    return matched.watch(items, _item_name), matched


def require_matches(target: Target, options: MigrationOptions, matched: ItemsMatched | None,
                    seen: SourceRows | None) -> None:
    """Refuse (exit 3) before any write when source rows were grouped but none names an item that
    exists (``ItemsMatched``): every count would be 0. Not with --accept-zero-counts."""
    if matched is None or seen is None or options.accept_zero_counts:
        return
    schema = active_schema()
    problem = matched.problem(seen, schema.aggregates[0], target.settings.source_table(), schema.table,
                              schema.key.names)
    if problem:
        raise Refused(f"refusing to migrate, nothing was written to table {target.settings.target_table}: {problem}",
                      hint="check the aggregate's group_by in the declaration (names and order); or, if no "
                           "row there belongs to an item, give --accept-zero-counts")


def _scanned_items(
    target: Target, total_segments: int, segments: list[int] | None, advance: Callable[[int], None]
) -> Iterator[dict[str, Any]]:
    for page in parallel_scan(
        target.dynamodb, target.settings.target_table, total_segments=total_segments, segments=segments
    ):
        for item in page.items:
            yield to_python(item)
        advance(len(page.items))


def _join_run(
    store: RunStore, table: str, options: MigrationOptions, total_segments: int, segments: list[int] | None
) -> MigrationOptions:
    """A worker of the named run: its backup, when already taken, is resumed (a retried array
    child continues from the store with the same flags); a split that disagrees is refused."""
    run_name = str(options.run_id)
    try:
        others = [run for run in runs_in(store, table) if run.name == run_name]
    except BackupError as error:
        raise MigrationError(str(error)) from error
    if others and others[0].total_segments != total_segments:
        raise MigrationError(
            f"run {run_name!r} in {store.location} is split into {others[0].total_segments} segments, "
            f"not {total_segments}"
        )
    backup_id = new_run_id(table, segments, total_segments, run=run_name)
    if store.exists(backup_id + MANIFEST_SUFFIX):
        log.info("run %s: backup %s exists, resuming it", run_name, backup_id)
        return replace(options, resume=backup_id, run_id=None)
    if others and set(segments or range(total_segments)) & set(others[0].covered):
        raise MigrationError(f"run {run_name!r} already has a backup of segment(s) {segments} under another name")
    return options


def _backup_to_resume(target: Target, options: MigrationOptions) -> Backup:
    """The backup of the run to resume, verified again, and refused if it is of another target."""
    given = str(options.resume)
    # A bare run id is looked up in --backup-dir; a path or s3:// URI (manifest, data file) as is.
    if "/" in given:
        location, name = split_location(given)
        backup = load_backup(name, store=target.run_store(location))
    else:
        backup = load_backup(given, store=target.run_store(options.backup_dir))
    verify_backup(backup, table=target.settings.target_table)
    if backup.manifest.get("endpoint") != target.endpoint:
        raise MigrationError(
            f"run {backup.run_id} was taken at {backup.manifest.get('endpoint')}, not at {target.endpoint}"
        )
    return backup


def _remaining(backup: Backup, checkpoint: Checkpoint) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(segment, index within segment, typed item) of every backup item not yet finished."""
    seen: dict[int, int] = {}
    for segment, item in iter_backup_items(backup):
        index = seen.get(segment, 0)
        seen[segment] = index + 1
        if not checkpoint.is_finished(segment, index):
            yield segment, index, item


Outcome = Callable[[Tally], None]  # adds one item's outcome to a tally
Outcomes = tuple[list[Outcome], "BaseException | None"]  # a task's finished items, and its crash
Task = list[tuple[int, int]]  # (segment, index within segment) of each item of a task


def _migrate(
    target: Target,
    options: MigrationOptions,
    backup: Backup,
    checkpoint: Checkpoint,
    count_source: CountSource,
    advance: Callable[[int], None],
    steering: Steering,
) -> int:
    """Upgrade every unfinished backup item with a bounded pool; returns how many it examined.
    ``steering`` paces every write (rate, pause) and ends the run early when told to stop."""
    store = ItemStore(target.dynamodb, target.settings.target_table)
    seal = read_seal(backup.store, backup.run_id, required=False) or {}
    with Ledger(backup.store, backup.name_for(LEDGER_SUFFIX), seal.get("ledger")) as ledger:
        return _WriteLoop(store, options, backup, checkpoint, count_source, advance, steering, ledger).run()


@dataclass
class _WriteLoop:
    """The backup's unfinished items, a few at a time, to a pool of ``options.workers`` writers;
    each task's outcomes go into the checkpoint as it finishes (saved every ``checkpoint_every``
    items, and at the end whatever happened: it holds only finished items)."""

    store: ItemStore
    options: MigrationOptions
    backup: Backup
    checkpoint: Checkpoint
    count_source: CountSource
    advance: Callable[[int], None]
    steering: Steering
    ledger: Ledger
    failures: ItemFailures = field(default_factory=lambda: ItemFailures(log, "item"))
    processed: int = 0  # items examined (main thread only, like ``since_save``)
    since_save: int = 0
    in_flight: dict[Future[Outcomes], Task] = field(default_factory=dict)

    def run(self) -> int:
        pool = ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="migrate")
        try:
            self._submit_all(pool)
            self._collect(block_until=0)
            self.checkpoint.completed = not self.steering.stopping
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for future, task in self.in_flight.items():  # after a crash: keep what finished meanwhile
                if future.done() and not future.cancelled():
                    self._settle(future, task)
            self._save()  # only finished items: always safe to skip
            self.failures.summarise()
        return self.processed

    def _submit_all(self, pool: ThreadPoolExecutor) -> None:
        # Items go to the writers a few at a time: one future per item cost more client CPU
        # than the write itself on a fast endpoint; small tables still spread over every writer.
        per_task = self.options.task_size(self.backup.item_count - self.checkpoint.finished_items)
        task: Task = []
        typed_items: list[dict[str, Any]] = []
        for segment, index, typed in _remaining(self.backup, self.checkpoint):
            if self.steering.stopping:
                break
            task.append((segment, index))
            typed_items.append(typed)
            if len(task) >= per_task:
                self._collect(block_until=2 * self.options.workers - 1)
                self.in_flight[pool.submit(self._migrate_task, typed_items)] = task
                task, typed_items = [], []
        if task and not self.steering.stopping:
            self.in_flight[pool.submit(self._migrate_task, typed_items)] = task

    def _migrate_task(self, typed_items: list[dict[str, Any]]) -> Outcomes:
        """Outcomes of the items finished, in order, and what crashed the worker if anything
        did (the items before it are finished and must reach the checkpoint)."""
        outcomes: list[Outcome] = []
        for typed in typed_items:
            if self.steering.stopping:  # the rest of the task is left for the run that continues
                break
            try:
                outcomes.append(self._migrate_one(typed))
            except Stopped:  # told to stop before its write: unwritten, unrecorded
                break
            except BaseException as crash:  # noqa: BLE001 - handed to the main thread
                return outcomes, crash
        return outcomes, None

    def _migrate_one(self, typed: dict[str, Any]) -> Outcome:
        item = to_python(typed)
        name = str(active_schema().key.describe(item))
        ledger, announced = self.ledger, False

        def record(plan: WritePlan) -> None:
            # The first write is planned from the item as backed up: its typed form is at
            # hand; a retry's plan comes from a re-read, serialized by the ledger itself.
            nonlocal announced
            ledger.record(plan.item_name, plan.changes, plan.before, None if announced else typed, plan.removes)
            announced = True

        try:
            # Steering paces every write sent, retries after a lost race included.
            outcome = upgrade_in_place(
                self.store, item, count_source=self.count_source, pace=self.steering.pace, announce=record,
                settle=lambda plan, how: ledger.settled(plan.item_name, how),
            )
        except Exception as error:  # after botocore's retries: record it, keep going
            reason = describe(error)
            self.failures.add(name, reason)
            self.steering.failed(f"{name}: {reason}")
            return lambda tally: add_failure(tally, name, reason)
        return lambda tally: add_outcome(tally, outcome)

    def _settle(self, future: Future[Outcomes], task: Task) -> BaseException | None:
        outcomes, crash = future.result()
        for (segment, index), outcome in zip(task, outcomes, strict=False):
            self.checkpoint.segment(segment).finish(index, outcome)
        self.processed += len(outcomes)
        self.since_save += len(outcomes)
        self.advance(len(outcomes))
        self.steering.finished(len(outcomes))
        return crash

    def _collect(self, block_until: int) -> None:
        while len(self.in_flight) > block_until:
            done, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
            crash: BaseException | None = None
            for future in done:
                crash = self._settle(future, self.in_flight.pop(future)) or crash
            if crash is not None:
                raise crash  # after every item finished beside it is settled
            if self.since_save >= self.options.checkpoint_every:
                self._save()

    def _save(self) -> None:
        self.checkpoint.save(self.backup.store, self.backup.name_for(CHECKPOINT_SUFFIX), ledger=self.ledger)
        self.since_save = 0
