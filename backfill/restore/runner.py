"""``run_restore``: validate a backup, plan item by item against the live table, then write.

1. ``open_backups`` refuses a missing, damaged (sha256), truncated (item count) or foreign
   (other table) backup before anything is read from or written to the table.
2. ``plan_restore`` streams the backup(s) and their ledgers into an on-disk index
   (``backfill.restore.index``), then reads the live table once (consistent parallel scan over
   the backup's own segments) page by page, classifying every item as it comes with
   ``backfill.restore.plan.classify``; the decisions stay on disk, the plan holds their counts
   (shown for confirmation before anything is written).
3. ``execute_restore`` reads the decisions back in item-name order and performs the planned writes,
   each conditioned on the item being as read; when the condition fails the item is re-read and
   re-classified (an item that became a conflict meanwhile is skipped like any other conflict).
Memory holds a scan page and the items in flight, whatever the table's size.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backfill.restore.index import CHUNK, ItemOutcome, RestoreIndex, Row
from backfill.restore.plan import Action, ItemPlan, MigrationWrite, classify, writes_by_rule
from backfill.restore.writes import delete_as_read, get_typed, put_over, revert_fields
from backfill.run.backup import (
    Backup,
    BackupError,
    BackupListing,
    iter_backup_items,
    list_backups,
    load_backup,
    verify_backup,
    write_json,
)
from backfill.run.item_failures import ItemFailures, describe
from backfill.run.ledger import LEDGER_SUFFIX, iter_ledger, ledger_exists
from backfill.run.names import RESTORE_REPORT_SUFFIX as REPORT_SUFFIX
from backfill.run.runs import find_run, run_of
from backfill.run.seal import check_run
from backfill.run.store import split_location
from backfill.table.scan import STREAMING_PAGE_ITEMS, parallel_scan
from backfill.table.target import Target
from chalicelib.items import to_python, typed_value
from chalicelib.schema import active_schema

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
IN_FLIGHT_PER_WORKER = 4  # items handed to the writers at once, per writer
SCAN_PAGE = STREAMING_PAGE_ITEMS  # items per page of the live scan
Progress = Callable[[str, int], None]


class RestoreRefused(Exception):
    """The backup cannot be used; nothing was written. ``available`` lists the usable ones."""

    def __init__(self, message: str, available: list[BackupListing]) -> None:
        super().__init__(message)
        self.available = available


@dataclass(frozen=True)
class RestoreOptions:
    backup_file: str | Path | None = None  # data file or manifest: a path or an s3:// URI
    backup_dir: str | Path = Path("backups")
    run: str | None = None  # instead of backup_file: every backup of this run in backup_dir
    segment: int | None = None  # with run: only this segment's backup (one worker of a parallel restore)
    force: bool = False  # overwrite conflicts with the backed-up item, recreate deleted ones
    delete_new: bool = False  # delete items created after the backup
    workers: int = 8


SUMMARY_CONFLICTS = "conflicts (changed since migration)"
SUMMARY_WRITES = "writes planned"


@dataclass
class RestorePlan:
    """The decision on every item, kept on disk (``index``); the plan itself holds counts."""

    backup: Backup  # the first (often only) backup of ``backups``
    options: RestoreOptions
    endpoint: str
    region: str
    ledger_found: bool
    index: RestoreIndex
    backups: tuple[Backup, ...] = ()  # every backup restored (all segments of a run, or one)
    coverage: str = ""
    ledgers: frozenset[int] = frozenset()  # parts (positions in ``backups``) that have a ledger
    seal: str = ""  # what the seal check found (``backfill.run.seal``)
    backed_up: int = 0  # items in the backup(s)
    live: int = 0  # live items in the backup's segments
    actions: Counter[str] = field(default_factory=Counter)  # Action value -> items

    @property
    def name(self) -> str:
        """What is restored: the backup's id, or the run's name when several backups form it."""
        return self.backup.run if len(self.backups) > 1 or self.options.run else self.backup.run_id

    @property
    def report_name(self) -> str:
        """Where the report goes: per segment for one segment of a run (array children restoring
        the run's segments at once each write their own), else per backup or run restored."""
        if self.options.segment is not None:
            return self.backup.name_for(REPORT_SUFFIX)
        return f"{self.name}{REPORT_SUFFIX}"

    def counts(self) -> dict[str, int]:
        return {action.value: self.actions[action.value] for action in Action}

    @property
    def total(self) -> int:
        """Items decided (backed up, live in the backup's segments, or both)."""
        return sum(self.actions.values())

    def will_write(self, plan: ItemPlan) -> bool:
        return self.writes_action(plan.action)

    def writes_action(self, action: Action) -> bool:
        return (
            action is Action.RESTORE
            or (action in (Action.CONFLICT, Action.DELETED) and self.options.force)
            or (action is Action.NEW and self.options.delete_new)
        )

    @property
    def write_count(self) -> int:
        return sum(self.actions[a.value] for a in Action if self.writes_action(a))

    @property
    def items(self) -> list[ItemPlan]:
        """Every item's plan in item-name order, all in memory: for tests and small tables."""
        return [self.decide_again(row) for row in self.index.decided()]

    def first_conflicts(self, limit: int | None = None) -> list[ItemPlan]:
        """Conflicts and items deleted since the backup, in item-name order (the first ``limit``)."""
        return [row.plan for row in self.index.decided((Action.CONFLICT, Action.DELETED), limit)
                if row.plan is not None]

    @property
    def conflicts(self) -> list[ItemPlan]:
        return self.first_conflicts()

    @property
    def conflict_count(self) -> int:
        return self.actions[Action.CONFLICT.value] + self.actions[Action.DELETED.value]

    def writes_of(self, part: int | None, item_name: str, backup_item: dict[str, Any] | None) -> list[MigrationWrite]:
        """The migration's write attempts on a backed-up item: from its backup's ledger, or by the rule."""
        if part is None or backup_item is None:
            return []
        if part in self.ledgers:
            return self.index.writes(part, item_name)
        return writes_by_rule(backup_item)

    def decide(self, item_name: str, part: int | None, backup_typed: dict[str, Any] | None,
               live_typed: dict[str, Any] | None) -> tuple[ItemPlan, list[MigrationWrite]]:
        """``classify`` one item (typed items in), with the migration's writes it was judged by."""
        backup = to_python(backup_typed) if backup_typed is not None else None
        writes = self.writes_of(part, item_name, backup)
        return classify(backup, to_python(live_typed) if live_typed is not None else None, writes), writes

    def decide_again(self, row: Row) -> ItemPlan:
        """A stored item's plan, with the fields to set (the same inputs give the same decision)."""
        return self.decide(row.item_name, row.part, row.backup, row.live)[0]

    def close(self) -> None:
        """Remove the on-disk index (also done at exit). The plan and its result are unusable after."""
        self.index.close()

    def summary(self) -> dict[str, Any]:
        """The plan as shown before confirmation; ``restore --processes`` sums the children's, and
        reads the totals back by the names in ``SUMMARY_CONFLICTS`` and ``SUMMARY_WRITES``."""
        counts = self.counts()
        return {
            "backup": self.name,
            "covers": self.coverage,
            "backup created": self.backup.manifest.get("created_at"),
            "backup endpoint": self.backup.manifest.get("endpoint"),
            "table": self.backup.table,
            "endpoint": self.endpoint,
            "region": self.region,
            "backed-up items": self.backed_up,
            "live items (backup's segments)": self.live,
            "ledger": "found" if self.ledger_found else "none (migration writes recomputed with the upgrade rule)",
            "seal": self.seal,
            "to restore (still as migrated)": counts[Action.RESTORE.value],
            "unchanged": counts[Action.UNCHANGED.value],
            SUMMARY_CONFLICTS: counts[Action.CONFLICT.value],
            "deleted since backup": counts[Action.DELETED.value],
            "created after backup": counts[Action.NEW.value],
            SUMMARY_WRITES: self.write_count,
            "--force": self.options.force,
            "--delete-new": self.options.delete_new,
        }


BAD_OUTCOMES = frozenset({"conflict_skipped", "deleted_skipped", "failed"})
QUIET_OUTCOMES = ("restored", "unchanged")  # counted, not listed one by one in the report


@dataclass
class RestoreResult:
    """Counts in memory; each item's outcome on disk (the plan's index), read back on demand."""

    backup: str
    table: str
    endpoint: str
    outcome_counts: Counter[str]
    index: RestoreIndex
    report_path: str | None = None  # path or s3:// URI

    def counts(self) -> dict[str, int]:
        return dict(sorted((k, v) for k, v in self.outcome_counts.items() if v))

    @property
    def outcomes(self) -> list[ItemOutcome]:
        """Every item's outcome, all in memory: for tests and small tables."""
        return list(self.index.outcomes())

    def ids(self, outcome: str) -> set[str]:
        return {o.item_name for o in self.index.outcomes([outcome])}

    @property
    def ok(self) -> bool:
        return not any(self.outcome_counts[o] for o in BAD_OUTCOMES)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "backup": self.backup,
            "table": self.table,
            "endpoint": self.endpoint,
            "counts": self.counts(),
            "items": [
                {active_schema().key.label: o.item_name, "outcome": o.outcome, "reason": o.reason, "differences": o.differences}
                for o in self.index.outcomes(exclude=QUIET_OUTCOMES)
            ],
            "report": str(self.report_path) if self.report_path else None,
            "finished_at_ms": int(time.time() * 1000),  # when the table was rolled back (backfill.run.rollback)
        }


def open_backups(target: Target, options: RestoreOptions, table: str) -> tuple[tuple[Backup, ...], str]:
    """The backups to restore, each checked (manifest, sha256, every line, item count, table), and
    what part of the table they cover. A backup that is one part of a split run is refused: the
    whole run (``--run``) or one named segment of it (``--run --segment``) is restored, never a
    part by accident. Raises RestoreRefused."""
    if options.run is not None:
        location = str(options.backup_dir)
    elif options.backup_file is not None:
        location, name = split_location(options.backup_file)
    else:
        raise RestoreRefused("name a backup FILE or a --run", [])
    try:
        if options.run is not None:
            run = find_run(target.run_store(location), options.run, table)
        else:
            backup = load_backup(name, store=target.run_store(location))
            verify_backup(backup, table=table)
            run = run_of(backup)
            if len(run.backups) > 1:
                raise BackupError(
                    f"backup {backup.run_id} covers segments {backup.segments} of {backup.total_segments}; it is "
                    f"one of {len(run.backups)} backups of run {run.name!r} ({run.coverage()}): restore the run "
                    f"with --run {run.name}, or this part alone with --run {run.name} --segment {backup.segments[0]}"
                )
        if options.segment is not None:
            part = run.backup_of(options.segment)
            if part is None:
                raise BackupError(f"run {run.name!r} has no backup of segment {options.segment} ({run.coverage()})")
            chosen: tuple[Backup, ...] = (part,)
            coverage = f"segment(s) {part.segments} of {run.total_segments} of run {run.name!r}"
        else:
            if options.run is not None:
                run.require_complete()
            chosen = run.backups
            coverage = run.coverage() if options.run is not None else (
                f"segments {run.covered} of {run.total_segments} only" if not run.complete else run.coverage())
        for backup in chosen:
            verify_backup(backup, table=table)
        return chosen, coverage
    except BackupError as error:
        locations = {str(options.backup_dir), location}
        available = [
            listing
            for place in sorted(locations)
            for listing in list_backups(target.run_store(place), table)
            if listing.problem is None
        ]
        raise RestoreRefused(str(error), available) from error


def plan_restore(target: Target, options: RestoreOptions, *, on_progress: Progress | None = None) -> RestorePlan:
    """Validate the backup, read the live table, and decide every item. Writes nothing.

    Streamed: the backup(s) and their ledgers go into an on-disk index, the live table is scanned
    past it page by page and each item classified as it comes, and the decisions are kept in the
    index; the plan holds counts."""
    table = target.settings.target_table
    backups, coverage = open_backups(target, options, table)
    progress = on_progress or (lambda phase, n: None)
    index = RestoreIndex()
    try:
        plan = RestorePlan(backups[0], options, target.endpoint, target.settings.region, True, index,
                           backups=backups, coverage=coverage)
        ledgers = set()
        for backup in backups:  # every seal before any ledger line is read
            checked = check_run(backup.store, backup.run_id, sealed=bool(backup.manifest.get("sealed")))
            plan.seal = "none (a run from before sealing)" if not checked.sealed else (
                f"checked; {checked.unsealed_tail} (an interrupted attempt)" if checked.unsealed_tail else "checked")
        for part, backup in enumerate(backups):  # each backup with its own ledger (segments are disjoint)
            plan.backed_up += index.add_backup(part, (typed for _segment, typed in iter_backup_items(backup)))
            ledger_name = backup.name_for(LEDGER_SUFFIX)
            if ledger_exists(backup.store, ledger_name):
                lines = iter_ledger(backup.store, ledger_name, writable=active_schema().owned, run=backup.run)
                index.add_ledger(part, ((e, record) for e, _entry, record in lines))
                ledgers.add(part)
            else:
                plan.ledger_found = False
        plan.ledgers = frozenset(ledgers)
        covered = sorted(s for backup in backups for s in backup.segments)
        for page in parallel_scan(target.dynamodb, table, total_segments=backups[0].total_segments,
                                  segments=covered, page_size=SCAN_PAGE, consistent=True):
            decided = []
            for typed in page.items:
                item_name = str(active_schema().key.name_of_typed(typed))
                decided.append((typed, _count(plan, plan.decide(item_name, *index.backup_of(item_name), typed)[0])))
            index.decide(decided)
            plan.live += len(page.items)
            progress("scan", len(page.items))
        # Backed-up items the scan never showed: deleted since the backup.
        index.decide([(None, _count(plan, plan.decide_again(row))) for row in index.undecided()])
        return plan
    except BaseException:
        index.close()
        raise


def _count(plan: RestorePlan, item: ItemPlan) -> ItemPlan:
    plan.actions[item.action.value] += 1
    return item


@dataclass(frozen=True)
class _Work:
    """One item to write, with what deciding it again needs (a writer thread has no index)."""

    item: ItemPlan
    backup: dict[str, Any] | None  # typed
    live: dict[str, Any] | None  # typed, as planned
    writes: list[MigrationWrite]


def execute_restore(target: Target, plan: RestorePlan, *, on_progress: Progress | None = None) -> RestoreResult:
    """Carry out ``plan`` and save the report next to the backup.

    Items come back from the plan's index in item-name order, a chunk at a time, and at most
    ``IN_FLIGHT_PER_WORKER`` per writer are handed out at once; outcomes go back to the index."""
    progress = on_progress or (lambda phase, n: None)
    counts: Counter[str] = Counter()
    done: list[ItemOutcome] = []

    failures = ItemFailures(log, "restore of item")

    def run(work: _Work) -> ItemOutcome:
        try:
            return _apply(target, plan, work)
        except Exception as error:  # one item's failure is reported, never stops the rest
            log.debug("restoring %s failed", work.item.item_name, exc_info=True)
            reason = describe(error)
            failures.add(work.item.item_name, reason)
            return ItemOutcome(work.item.item_name, "failed", reason)

    def finish(outcome: ItemOutcome) -> None:
        counts[outcome.outcome] += 1
        done.append(outcome)
        progress("restore", 1)
        if len(done) >= CHUNK:
            plan.index.record_outcomes(done)
            done.clear()

    workers = max(1, plan.options.workers)
    in_flight: set[Future[ItemOutcome]] = set()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for row in plan.index.decided():
            if row.plan is None or not plan.will_write(row.plan):
                finish(_skipped(row.plan or plan.decide_again(row)))
                continue
            item, writes = plan.decide(row.item_name, row.part, row.backup, row.live)
            in_flight.add(pool.submit(run, _Work(item, row.backup, row.live, writes)))
            if len(in_flight) >= IN_FLIGHT_PER_WORKER * workers:
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    finish(future.result())
        for future in in_flight:
            finish(future.result())
    plan.index.record_outcomes(done)
    failures.summarise()
    result = RestoreResult(plan.name, plan.backup.table, plan.endpoint, counts, plan.index)
    result.report_path = plan.backup.store.uri(plan.report_name)
    write_json(plan.backup.store, plan.report_name, {**result.to_json(), "plan": plan.summary()})
    return result


def run_restore(
    target: Target,
    options: RestoreOptions,
    *,
    confirm: Callable[[RestorePlan], None] | None = None,
    on_progress: Progress | None = None,
) -> RestoreResult:
    """Plan, ask ``confirm(plan)`` (it raises to stop), execute. Raises RestoreRefused."""
    plan = plan_restore(target, options, on_progress=on_progress)
    try:
        if confirm is not None and plan.write_count:
            confirm(plan)
        return execute_restore(target, plan, on_progress=on_progress)
    except BaseException:
        plan.close()
        raise


def _skipped(item: ItemPlan) -> ItemOutcome:
    return ItemOutcome(item.item_name, _SKIPPED[item.action], item.reason, item.differences)


def _apply(target: Target, plan: RestorePlan, work: _Work) -> ItemOutcome:
    dynamodb, table = target.dynamodb, target.settings.target_table
    item, backup_typed, live_typed = work.item, work.backup, work.live
    for _attempt in range(MAX_ATTEMPTS):
        action = item.action
        if not plan.will_write(item):
            return _skipped(item)
        # (classify gives RESTORE and CONFLICT only with both items, DELETED with a backup, NEW with a live one)
        if action is Action.RESTORE and live_typed is not None:
            sets = {f: typed_value(value) for f, value in item.sets.items()}
            if revert_fields(dynamodb, table, live_typed, sets, item.remove_fields, active_schema().owned):
                return ItemOutcome(item.item_name, "restored")
        elif action is Action.CONFLICT and backup_typed is not None and live_typed is not None:
            if put_over(dynamodb, table, backup_typed, live_typed):
                return ItemOutcome(item.item_name, "overwritten", item.reason, item.differences)
        elif action is Action.DELETED and backup_typed is not None:
            if put_over(dynamodb, table, backup_typed, None):
                return ItemOutcome(item.item_name, "recreated", item.reason)
        elif action is Action.NEW and live_typed is not None and delete_as_read(dynamodb, table, live_typed):
            return ItemOutcome(item.item_name, "new_deleted", item.reason)
        # The item changed between read and write: read it again and decide again.
        live_typed = get_typed(dynamodb, table, active_schema().key.typed(item.item_name))
        if backup_typed is None and live_typed is None:
            return ItemOutcome(item.item_name, "gone", "created after the backup, deleted meanwhile by someone else")
        item = classify(to_python(backup_typed) if backup_typed is not None else None,
                        to_python(live_typed) if live_typed is not None else None, work.writes)
    return ItemOutcome(item.item_name, "failed", f"kept changing under the restore for {MAX_ATTEMPTS} attempts")


_SKIPPED = {
    Action.UNCHANGED: "unchanged",
    Action.CONFLICT: "conflict_skipped",
    Action.DELETED: "deleted_skipped",
    Action.NEW: "new_kept",
}
