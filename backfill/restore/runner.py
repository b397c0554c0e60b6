"""``run_restore``: validate a backup, plan item by item against the live table, then write.

1. ``open_backups`` refuses a missing, damaged (sha256), truncated (item count) or foreign
   (other table) backup before anything is read from or written to the table.
2. ``plan_restore`` reads the live table once (consistent parallel scan over the backup's own
   segments) and classifies every item with ``backfill.restore.plan.classify``.
3. ``execute_restore`` performs the planned writes, each conditioned on the item being as read;
   when the condition fails the item is re-read and re-classified (an item that became a
   conflict meanwhile is skipped like any other conflict).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backfill.backup import (
    Backup,
    BackupError,
    BackupListing,
    iter_backup_items,
    list_backups,
    load_backup,
    verify_backup,
    write_json,
)
from backfill.ledger import LEDGER_SUFFIX, ledger_exists, read_ledger
from backfill.restore.plan import Action, ItemPlan, MigrationWrite, classify, writes_by_rule
from backfill.restore.writes import KEY, delete_as_read, get_typed, put_over, revert_fields
from backfill.runs import find_run, run_of
from backfill.scan import parallel_scan
from backfill.store import split_location
from backfill.target import Target
from chalicelib.items import to_python, typed_value
from chalicelib.schema import active_schema

log = logging.getLogger(__name__)

REPORT_SUFFIX = ".restore-report.json"
MAX_ATTEMPTS = 5
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


@dataclass
class RestorePlan:
    backup: Backup  # the first (often only) backup of ``backups``
    options: RestoreOptions
    endpoint: str
    region: str
    ledger_found: bool
    backup_items: dict[str, dict[str, Any]]  # eventId -> typed item
    live_items: dict[str, dict[str, Any]]  # eventId -> typed item (backed-up and new ones)
    migration_writes: dict[str, list[MigrationWrite]]  # eventId -> the migration's write attempts
    items: list[ItemPlan] = field(default_factory=list)
    backups: tuple[Backup, ...] = ()  # every backup restored (all segments of a run, or one)
    coverage: str = ""

    @property
    def name(self) -> str:
        """What is restored: the backup's id, or the run's name when several backups form it."""
        return self.backup.run if len(self.backups) > 1 or self.options.run else self.backup.run_id

    def counts(self) -> dict[str, int]:
        return {action.value: sum(1 for p in self.items if p.action is action) for action in Action}

    def will_write(self, plan: ItemPlan) -> bool:
        return (
            plan.action is Action.RESTORE
            or (plan.action in (Action.CONFLICT, Action.DELETED) and self.options.force)
            or (plan.action is Action.NEW and self.options.delete_new)
        )

    @property
    def writes(self) -> list[ItemPlan]:
        return [p for p in self.items if self.will_write(p)]

    @property
    def conflicts(self) -> list[ItemPlan]:
        return [p for p in self.items if p.action in (Action.CONFLICT, Action.DELETED)]

    def summary(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "backup": self.name,
            "covers": self.coverage,
            "backup created": self.backup.manifest.get("created_at"),
            "backup endpoint": self.backup.manifest.get("endpoint"),
            "table": self.backup.table,
            "endpoint": self.endpoint,
            "region": self.region,
            "backed-up items": len(self.backup_items),
            "live items (backup's segments)": len(self.live_items),
            "ledger": "found" if self.ledger_found else "none (migration writes recomputed with the upgrade rule)",
            "to restore (still as migrated)": counts[Action.RESTORE.value],
            "unchanged": counts[Action.UNCHANGED.value],
            "conflicts (changed since migration)": counts[Action.CONFLICT.value],
            "deleted since backup": counts[Action.DELETED.value],
            "created after backup": counts[Action.NEW.value],
            "writes planned": len(self.writes),
            "--force": self.options.force,
            "--delete-new": self.options.delete_new,
        }


@dataclass(frozen=True)
class ItemOutcome:
    event_id: str
    outcome: str  # restored|unchanged|conflict_skipped|deleted_skipped|overwritten|recreated|new_kept|new_deleted|gone|failed
    reason: str = ""
    differences: dict[str, str] = field(default_factory=dict)


BAD_OUTCOMES = frozenset({"conflict_skipped", "deleted_skipped", "failed"})


@dataclass
class RestoreResult:
    backup: str
    table: str
    endpoint: str
    outcomes: list[ItemOutcome]
    report_path: str | None = None  # path or s3:// URI

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(o.outcome for o in self.outcomes).items()))

    def ids(self, outcome: str) -> set[str]:
        return {o.event_id for o in self.outcomes if o.outcome == outcome}

    @property
    def ok(self) -> bool:
        return not any(o.outcome in BAD_OUTCOMES for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        interesting = [o for o in self.outcomes if o.outcome not in ("restored", "unchanged")]
        return {
            "ok": self.ok,
            "backup": self.backup,
            "table": self.table,
            "endpoint": self.endpoint,
            "counts": self.counts(),
            "items": [
                {"eventId": o.event_id, "outcome": o.outcome, "reason": o.reason, "differences": o.differences}
                for o in sorted(interesting, key=lambda o: (o.outcome, o.event_id))
            ],
            "report": str(self.report_path) if self.report_path else None,
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
    """Validate the backup, read the live table, and decide every item. Writes nothing."""
    table = target.settings.events_table
    backups, coverage = open_backups(target, options, table)
    progress = on_progress or (lambda phase, n: None)
    backup_items: dict[str, dict[str, Any]] = {}
    writes: dict[str, list[MigrationWrite]] = {}
    ledger_found = True
    for backup in backups:  # each backup with its own ledger (segments are disjoint)
        items = {typed[KEY]["S"]: typed for _segment, typed in iter_backup_items(backup)}
        ledger_name = backup.name_for(LEDGER_SUFFIX)
        if ledger_exists(backup.store, ledger_name):
            ledger = read_ledger(backup.store, ledger_name)
            writes.update({e: [MigrationWrite(a.changes, a.read) for a in ledger.get(e, [])] for e in items})
        else:
            ledger_found = False
            writes.update({e: writes_by_rule(to_python(item)) for e, item in items.items()})
        backup_items.update(items)
    live: dict[str, dict[str, Any]] = {}
    total_segments = backups[0].total_segments
    covered = sorted(s for backup in backups for s in backup.segments)
    for page in parallel_scan(target.dynamodb, table, total_segments=total_segments,
                              segments=covered, consistent=True):
        for typed in page.items:
            live[typed[KEY]["S"]] = typed
        progress("scan", len(page.items))
    plan = RestorePlan(backups[0], options, target.endpoint, target.settings.region, ledger_found,
                       backup_items, live, writes, backups=backups, coverage=coverage)
    for event_id in sorted(set(backup_items) | set(live)):
        plan.items.append(_classify(plan, event_id, live.get(event_id)))
    return plan


def _classify(plan: RestorePlan, event_id: str, live_typed: dict[str, Any] | None) -> ItemPlan:
    backup_typed = plan.backup_items.get(event_id)
    return classify(
        to_python(backup_typed) if backup_typed is not None else None,
        to_python(live_typed) if live_typed is not None else None,
        plan.migration_writes.get(event_id, []),
    )


def execute_restore(target: Target, plan: RestorePlan, *, on_progress: Progress | None = None) -> RestoreResult:
    """Carry out ``plan`` and save the report next to the backup."""
    progress = on_progress or (lambda phase, n: None)

    def run(item: ItemPlan) -> ItemOutcome:
        try:
            outcome = _apply(target, plan, item)
        except Exception as error:  # one item's failure is reported, never stops the rest
            log.error("restoring %s failed: %s", item.event_id, error, exc_info=log.isEnabledFor(logging.DEBUG))
            outcome = ItemOutcome(item.event_id, "failed", f"{type(error).__name__}: {error}")
        progress("restore", 1)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, plan.options.workers)) as pool:
        outcomes = list(pool.map(run, plan.items))
    result = RestoreResult(plan.name, plan.backup.table, plan.endpoint, outcomes)
    report_name = f"{plan.name}{REPORT_SUFFIX}"
    result.report_path = plan.backup.store.uri(report_name)
    write_json(plan.backup.store, report_name, {**result.to_json(), "plan": plan.summary()})
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
    if confirm is not None and plan.writes:
        confirm(plan)
    return execute_restore(target, plan, on_progress=on_progress)


def _apply(target: Target, plan: RestorePlan, item: ItemPlan) -> ItemOutcome:
    dynamodb, table = target.dynamodb, target.settings.events_table
    backup_typed = plan.backup_items.get(item.event_id)
    live_typed = plan.live_items.get(item.event_id)
    for _attempt in range(MAX_ATTEMPTS):
        action = item.action
        if not plan.will_write(item):
            return ItemOutcome(item.event_id, _SKIPPED[action], item.reason, item.differences)
        # (classify gives RESTORE and CONFLICT only with both items, DELETED with a backup, NEW with a live one)
        if action is Action.RESTORE and live_typed is not None:
            sets = {f: typed_value(value) for f, value in item.sets.items()}
            if revert_fields(dynamodb, table, live_typed, sets, item.remove_fields, active_schema().owned):
                return ItemOutcome(item.event_id, "restored")
        elif action is Action.CONFLICT and backup_typed is not None and live_typed is not None:
            if put_over(dynamodb, table, backup_typed, live_typed):
                return ItemOutcome(item.event_id, "overwritten", item.reason, item.differences)
        elif action is Action.DELETED and backup_typed is not None:
            if put_over(dynamodb, table, backup_typed, None):
                return ItemOutcome(item.event_id, "recreated", item.reason)
        elif action is Action.NEW and live_typed is not None and delete_as_read(dynamodb, table, live_typed):
            return ItemOutcome(item.event_id, "new_deleted", item.reason)
        # The item changed between read and write: read it again and decide again.
        live_typed = get_typed(dynamodb, table, {KEY: {"S": item.event_id}})
        if backup_typed is None and live_typed is None:
            return ItemOutcome(item.event_id, "gone", "created after the backup, deleted meanwhile by someone else")
        item = _classify(plan, item.event_id, live_typed)
    return ItemOutcome(item.event_id, "failed", f"kept changing under the restore for {MAX_ATTEMPTS} attempts")


_SKIPPED = {
    Action.UNCHANGED: "unchanged",
    Action.CONFLICT: "conflict_skipped",
    Action.DELETED: "deleted_skipped",
    Action.NEW: "new_kept",
}
