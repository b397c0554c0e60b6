"""``run_verify``: scan the target table, count the aggregate's source once, and check every item.

Reads only. The counts come from ONE parallel scan of the aggregate's source table, or
(``--count-with query``, the default with ``--segment``) one consistent COUNT query per item
checked, into a count store bounded in memory (``backfill.table.aggregate_counts``).
Under live traffic a count can move between that scan and the target's scan, so every count
mismatch is re-checked once with a consistent read of the item and a consistent COUNT query
of its source rows; a mismatch that settles is a note, not a failure.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backfill.run.backup import (
    Backup,
    BackupError,
    iter_backup_items,
    load_backup,
    newest_backup,
    verify_backup,
)
from backfill.run.ledger import LEDGER_SUFFIX, iter_ledger
from backfill.run.runs import Run, find_run, run_of
from backfill.run.store import split_location
from backfill.table.aggregate_counts import (
    NONE,
    QUERY,
    SCAN,
    CountChoice,
    CountStore,
    MemoryCounts,
    SpillingCounts,
    choose_count_method,
    choose_for_tables,
    count_by_query,
    count_groups,
)
from backfill.table.scan import STREAMING_PAGE_ITEMS, parallel_scan
from backfill.table.source_groups import SourceRows, sample_source
from backfill.table.target import Target
from backfill.verify.checks import (
    Finding,
    FindingKind,
    check_item,
    created_after_snapshot,
    missing_since_snapshot,
    orphan_source_rows,
    ungrouped_source_rows,
    unmatched_source_rows,
    unowned_writes,
)
from backfill.verify.spill import SnapshotIndex
from chalicelib.counts import AggregateCounter
from chalicelib.item_store import ItemStore
from chalicelib.items import to_python
from chalicelib.schema import active_schema
from chalicelib.schema.values import as_count

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]  # (phase, items done in this step)
STATUS_BATCH = 1000  # ledger statuses upserted into the index per transaction


@dataclass(frozen=True)
class VerifyOptions:
    backup_dir: str | Path = Path("backups")  # the run store: a directory or s3://bucket/prefix
    snapshot: str | Path | None = None
    run: str | None = None  # compare with every backup of this run (all its segments)
    segment: int | None = None  # only this segment of the run's split (bounded memory, one array child)  # default: newest backup of the target table in backup_dir
    use_snapshot: bool = True
    sample: int | None = None  # check only the first N items in scan order
    total_segments: int = 4
    recheck_counts: bool = True
    accept_zero_counts: bool = False  # source rows that belong to no item at all are a note, not a failure
    count_with: str = "auto"  # the aggregate's source counted by: scan | query | auto (backfill.table.aggregate_counts)
    strict: bool = False  # any change of an unowned attribute fails (a table with no other writer)
    show_values: bool = False  # findings show attribute values (user data), not only names and types



@dataclass
class VerifyResult:
    table: str
    source_table: str | None  # the aggregate's source (actual name); None: the declaration keeps no aggregate
    endpoint: str
    mode: str
    snapshot: str | None
    snapshot_note: str | None
    items_checked: int = 0
    source_rows: int = 0
    counted_with: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.fails]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if not f.fails]

    @property
    def ok(self) -> bool:
        return not self.failures

    def failing_names(self) -> set[str]:
        return {f.name for f in self.failures}

    def ids_of(self, kind: FindingKind) -> set[str]:
        return {f.name for f in self.findings if f.kind is kind}

    def counts_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(f.kind.value for f in self.findings).items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "table": self.table,
            "source_table": self.source_table,
            "endpoint": self.endpoint,
            "mode": self.mode,
            "snapshot": self.snapshot,
            "snapshot_note": self.snapshot_note,
            "items_checked": self.items_checked,
            "source_rows": self.source_rows,
            "counted_by": self.counted_with,
            "failing_items": len(self.failing_names()),
            "by_kind": self.counts_by_kind(),
            "failures": [f.to_json() for f in self.failures],
            "notes": [f.to_json() for f in self.notes],
        }


def resolve_snapshot(target: Target, options: VerifyOptions, table: str) -> tuple[Run | None, str | None]:
    """The snapshot to compare with: every backup of one run, each checked (sha256, item count,
    table), together covering the whole table; or None and why not. A backup that is one part
    of a split run brings its sibling backups; a run that covers only part of the table raises
    RunIncomplete (a BackupError): checking half a table against half a snapshot proves nothing."""
    if not options.use_snapshot:
        return None, "snapshot checks skipped (--no-snapshot)"
    if options.run is not None:
        run = find_run(target.run_store(options.backup_dir), options.run, table)
    elif options.snapshot is not None:
        location, name = split_location(options.snapshot)
        run = run_of(load_backup(name, store=target.run_store(location)))
    else:
        backup = newest_backup(target.run_store(options.backup_dir), table)
        if backup is None:
            return None, f"no backup of {table!r} in {options.backup_dir}: snapshot checks skipped"
        run = run_of(backup)
    for backup in run.backups:
        verify_backup(backup, table=table)
    run.require_complete()
    return run, None


def run_verify(target: Target, options: VerifyOptions, *, on_progress: Progress | None = None) -> VerifyResult:
    """Check every item (or a sample) of the target table. Raises BackupError when
    the snapshot named (or found) is damaged or of another table."""
    settings = target.settings
    snapshot, note = resolve_snapshot(target, options, settings.target_table)
    result = VerifyResult(
        table=settings.target_table,
        source_table=settings.source_table() if active_schema().aggregates else None,
        endpoint=target.endpoint,
        mode="sample" if options.sample else "full",
        snapshot=(snapshot.backups[0].run_id if len(snapshot.backups) == 1 else snapshot.name) if snapshot else None,
        snapshot_note=note,
    )
    progress = on_progress or (lambda phase, n: None)

    total_segments = options.total_segments
    if snapshot is not None:
        if options.segment is not None and not 0 <= options.segment < snapshot.total_segments:
            raise BackupError(f"segment {options.segment} is not in 0..{snapshot.total_segments - 1} "
                              f"(run {snapshot.name!r} has {snapshot.total_segments} segments)")
        # Scan with the snapshot's split, so an item's segment tells whether the snapshot covered it.
        total_segments = snapshot.total_segments
    elif options.segment is not None:
        raise BackupError("verify --segment K checks one segment of a run's split: it needs the run's snapshot")
    with SnapshotIndex() as index:
        if snapshot is not None:
            result.findings += _load_snapshot(index, snapshot, options)
        _check_table(target, options, result, snapshot, index, total_segments, progress)
    if options.recheck_counts and active_schema().aggregates:
        result.findings = _recheck_counts(target, result.findings)
    return result


def _load_snapshot(index: SnapshotIndex, snapshot: Run, options: VerifyOptions) -> list[Finding]:
    """Every backed-up item of the run (or of one segment) and the statuses its ledgers record;
    returns the ledgers' writes of attributes the migration does not own."""
    only_segment = options.segment
    findings: list[Finding] = []
    for backup in snapshot.backups:
        if only_segment is not None and only_segment not in backup.segments:
            continue
        index.add_items(typed for segment, typed in iter_backup_items(backup)
                        if only_segment is None or segment == only_segment)
        findings += _load_ledger(index, backup, options.show_values)
    return findings


def _load_ledger(index: SnapshotIndex, backup: Backup, show_values: bool) -> list[Finding]:
    """The status the run last wrote to each event, streamed from its ledger into the index a
    batch at a time (the ledger holds each write's read item: about the backup's size). Batches
    go in ledger order, so a later status replaces an earlier one (a retry's, the write that landed).
    Every write that set an attribute the migration does not own is a finding."""
    batch: dict[str, Any] = {}
    findings: list[Finding] = []
    status = active_schema().status_field  # None: no workflow, no statuses to index
    for item_name, entry, _ in iter_ledger(backup.store, backup.name_for(LEDGER_SUFFIX)):
        findings += unowned_writes(item_name, entry.changes, entry.read, show_values=show_values, removed=entry.removed)
        if status is not None and status in entry.changes:
            batch[item_name] = entry.changes[status]
            if len(batch) >= STATUS_BATCH:
                index.add_statuses(batch)
                batch = {}
    index.add_statuses(batch)
    return findings


def _check_table(
    target: Target,
    options: VerifyOptions,
    result: VerifyResult,
    snapshot: Run | None,
    index: SnapshotIndex,
    total_segments: int,
    progress: Progress,
) -> None:
    """Stream the target table past the snapshot index: memory holds one page, the findings and
    the counts (on disk beyond MEMORY_LIMIT_ITEMS), whatever the table's size (a
    --sample holds its N items)."""
    split = total_segments if options.segment is not None else None
    choice = (choose_for_tables(target.dynamodb, options.count_with, split=split,
                                target_table=target.settings.target_table, source_table=target.settings.source_table())
              if active_schema().aggregates else choose_count_method(options.count_with, split=split))
    result.counted_with = choice.describe()
    if choice.method == QUERY and options.segment is None and not options.sample:
        source = active_schema().aggregates[0].source.table
        result.counted_with += f"; orphan {source} rows not checked (only a scan of the {source} table finds them)"
    with SpillingCounts() as counts, SpillingCounts() as present:
        _Pass(target, options, result, snapshot, index, total_segments, progress, choice, counts, present).run()


@dataclass
class _Pass:
    """One pass over the table: every item checked against its count, the snapshot and the ledger."""

    target: Target
    options: VerifyOptions
    result: VerifyResult
    snapshot: Run | None
    index: SnapshotIndex
    total_segments: int
    progress: Progress
    choice: CountChoice
    counts: CountStore
    present: CountStore  # items that have source rows and exist (for the orphan check)
    new_ids: list[str] = field(default_factory=list)  # items the snapshot's segments did not hold
    seen: SourceRows = field(default_factory=SourceRows)  # the source rows read, and which belong to no item
    covered: frozenset[int] = frozenset()  # the snapshot's segments

    def __post_init__(self) -> None:
        self.covered = frozenset(self.snapshot.covered) if self.snapshot is not None else frozenset()

    def run(self) -> None:
        options = self.options
        if options.sample:
            self._check_sample(options.sample)
        else:
            self._check_whole_table()
        self.result.findings += created_after_snapshot(self.new_ids)
        if self.choice.method != NONE:
            self.result.findings += self._ungrouped()
        if not options.sample:
            self.result.findings += missing_since_snapshot(self.index.unseen())
            # Source rows of no item: only a scan of the whole source table can tell.
            if options.segment is None and self.choice.method == SCAN:
                self.result.findings += orphan_source_rows(self.counts, self.present)
                self.result.findings += unmatched_source_rows(self.seen, len(self.present),
                                                              self.target.settings.source_table(),
                                                              accept_zero_counts=options.accept_zero_counts)

    def _ungrouped(self) -> list[Finding]:
        """Source rows that count for no item: from the counting scan of the whole source, else a
        sample of it (a count by query reads only the groups of the items checked)."""
        table = self.target.settings.source_table()
        if self.choice.method != SCAN or self.options.sample:
            self.seen = sample_source(self.target.dynamodb, table, active_schema().aggregates[0])
        return ungrouped_source_rows(self.seen, table, accept_zero_counts=self.options.accept_zero_counts)

    @property
    def _segments(self) -> list[int] | None:
        return None if self.options.segment is None else [self.options.segment]

    def _check_sample(self, sample: int) -> None:
        target, progress = self.target, self.progress
        items = _scan_items(target, self.total_segments, self._segments, sample, progress)
        sampled = (_counts_for(target, self.options, self.total_segments, [item for _, item in items], progress)
                   if self.choice.method != NONE else MemoryCounts())
        for segment, item in items:
            self._check(segment, item, sampled)
        self.result.source_rows = sampled.total()

    def _check_whole_table(self) -> None:
        target, counts = self.target, self.counts
        if self.choice.method == SCAN:
            _counts_for(target, self.options, self.total_segments, [], self.progress, store=counts, seen=self.seen)
        stream = _scanned(target, self.total_segments, self._segments, self.progress)
        if self.choice.method == QUERY:  # each chunk of items counted just after it was read
            stream = count_by_query(target.dynamodb, target.settings.source_table(), stream,
                                    lambda entry: active_schema().key.name_of_typed(entry[1]), counts,
                                    threads=self.total_segments)
        for segment, typed in stream:
            self._check(segment, to_python(typed), counts)
        self.result.source_rows = counts.total()

    def _check(self, segment: int, item: dict[str, Any], counts: CountStore) -> None:
        name = str(active_schema().key.describe(item))
        if name in counts and self.choice.method == SCAN:
            self.present.add({name: 1})
        snapshot_item, migration_status = self.index.see(name)
        if self.snapshot is not None and snapshot_item is None and segment in self.covered:
            self.new_ids.append(name)
        self.result.findings.extend(check_item(item, fresh_count=counts.get(name), snapshot_item=snapshot_item,
                                                migration_status=migration_status, strict=self.options.strict,
                                                show_values=self.options.show_values))
        self.result.items_checked += 1


def _scanned(
    target: Target, total_segments: int, segments: list[int] | None, progress: Progress
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(segment, typed item) of every event, by a consistent parallel scan."""
    for page in parallel_scan(target.dynamodb, target.settings.target_table, total_segments=total_segments,
                              segments=segments, page_size=STREAMING_PAGE_ITEMS, consistent=True):
        yield from ((page.segment, typed) for typed in page.items)
        progress("items", len(page.items))


def _scan_items(
    target: Target, total_segments: int, segments: list[int] | None, sample: int, progress: Progress
) -> list[tuple[int, dict[str, Any]]]:
    items: list[tuple[int, dict[str, Any]]] = []
    for page in parallel_scan(target.dynamodb, target.settings.target_table, total_segments=total_segments,
                              segments=segments, page_size=min(sample, 1000), consistent=True):
        items += [(page.segment, to_python(typed)) for typed in page.items]
        progress("items", len(page.items))
        if len(items) >= sample:
            return items[:sample]
    return items


def _counts_for(
    target: Target, options: VerifyOptions, total_segments: int, items: list[dict[str, Any]], progress: Progress,
    store: CountStore | None = None, seen: SourceRows | None = None,
) -> CountStore:
    """One parallel scan of the whole source table (each row shown to ``seen``); for a sample, one
    consistent COUNT per sampled item."""
    source = target.settings.source_table()
    if options.sample:
        counter = AggregateCounter(target.dynamodb, source)
        sampled = MemoryCounts()  # a sample's N items
        names = [name for name in map(active_schema().key.name_of, items) if name is not None]
        sampled.add({name: counter.count(name) for name in names})
        return sampled
    return count_groups(target.dynamodb, source, max(total_segments, options.total_segments),
                        on_rows=lambda n: progress(active_schema().aggregates[0].source.table, n), store=store,
                        seen=seen)


def _recheck_counts(target: Target, findings: list[Finding]) -> list[Finding]:
    store = ItemStore(target.dynamodb, target.settings.target_table)
    counter = AggregateCounter(target.dynamodb, target.settings.source_table())
    checked = []
    for finding in findings:
        if finding.kind is not FindingKind.COUNT_MISMATCH:
            checked.append(finding)
            continue
        item = store.get(finding.name)
        stored = as_count(item.get(counter.aggregate.name)) if item else None
        fresh = counter.count(finding.name)
        if stored is not None and stored == fresh:
            checked.append(Finding(finding.name, FindingKind.COUNT_SETTLED,
                                   f"{finding.reason} during the scan; a consistent re-read agrees on {fresh}"))
        else:
            checked.append(Finding(finding.name, FindingKind.COUNT_MISMATCH,
                                   f"{counter.aggregate.name} is {stored}, a consistent count of {counter.aggregate.source.table} is {fresh}"))
    return checked
