"""Pure checks of migrated items: plain items, fresh counts and a snapshot in, findings out.

A finding either *fails* verification (something is wrong) or is a *note* (worth knowing,
not wrong: an item created after the snapshot, a status the application moved forward).

Status rule: the snapshot's status must map (the schema's legacy aliases; current statuses map to
themselves) to the live status. The workflow only moves forward (the schema's status
order), so a live status *later* than the mapped one is the application moving the item
on after the snapshot: a note. An earlier or unrelated status fails, and so does a status the
migration itself wrote (seen in its ledger) that is not the mapped one.

Attributes the migration does not own: the application keeps editing them while and after the
migration runs, so a difference from the snapshot is a note naming each attribute and its type
change. What the migration itself wrote is proven from its ledger instead (every write is
recorded before it is sent, with the fields it set): a write of an attribute it does not own
fails. ``strict`` (a table with no other writer) keeps the older rule: any difference fails.
"""

from __future__ import annotations

import enum
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backfill.table.aggregate_counts import CountStore
from backfill.table.compare import describe_changes, differing_attributes
from backfill.table.source_groups import SourceRows
from chalicelib.redaction import without_values
from chalicelib.schema import active_schema, validate_item
from chalicelib.schema.upgrade import is_newer
from chalicelib.schema.values import as_count


class FindingKind(str, enum.Enum):
    # failures
    INVALID = "invalid"
    STATUS_MAPPING = "status_mapping"
    COUNT_MISMATCH = "count_mismatch"
    MISSING = "missing_since_snapshot"
    UNOWNED_CHANGED = "unowned_changed"  # --strict: any change of an unowned attribute since the snapshot
    UNOWNED_WRITTEN = "unowned_written_by_migration"  # the ledger shows the migration setting one
    UNGROUPED_SOURCE_ROWS = "ungrouped_source_rows"  # no source row read belongs to an item: group_by is wrong
    # notes
    CREATED_AFTER_SNAPSHOT = "created_after_snapshot"
    CHANGED_BY_APPLICATION = "changed_by_application"  # unowned attributes the migration did not write
    STATUS_ADVANCED = "status_advanced"
    COUNT_SETTLED = "count_settled_on_recheck"
    ORPHAN_SOURCE_ROWS = "orphan_source_rows"  # rows of the aggregate's source whose item does not exist
    SOURCE_ROWS_IN_NO_GROUP = "source_rows_in_no_group"  # some source rows read belong to no item (others do)
    NEWER_VERSION = "newer_version"  # written by a newer declaration (another deployment's): not judged here


FAILING_KINDS: frozenset[FindingKind] = frozenset(
    {FindingKind.INVALID, FindingKind.STATUS_MAPPING, FindingKind.COUNT_MISMATCH, FindingKind.MISSING, FindingKind.UNOWNED_CHANGED, FindingKind.UNOWNED_WRITTEN,
     FindingKind.UNGROUPED_SOURCE_ROWS}
)


@dataclass(frozen=True)
class Finding:
    name: str  # the item's name (chalicelib.schema.key.Key.name_of)
    kind: FindingKind
    reason: str

    @property
    def fails(self) -> bool:
        return self.kind in FAILING_KINDS

    def to_json(self) -> dict[str, Any]:
        return {"item": self.name, "kind": self.kind.value, "reason": self.reason, "fails": self.fails}


def mapped_status(snapshot_status: Any) -> str | None:
    """The status a snapshot status must become, or None when it is not a status at all."""
    return active_schema().canonical_status(snapshot_status)


def _before(earlier: str, later: str) -> bool:
    workflow = active_schema().workflow
    return workflow.index(earlier) < workflow.index(later)


def check_status(
    item_name: str, snapshot_status: Any, live_status: Any, migration_status: Any = None
) -> list[Finding]:
    expected = mapped_status(snapshot_status)
    statuses = active_schema().workflow
    if expected is None or live_status not in statuses:
        return []  # nothing to map from, or validate_item already names the bad live status
    findings = []
    # The migration re-reads a row the app changed after the backup, so it may rightly write a
    # later status than the snapshot maps to; only an earlier one is wrong.
    if migration_status in statuses and _before(migration_status, expected):
        findings.append(Finding(item_name, FindingKind.STATUS_MAPPING,
                                f"the migration wrote status {migration_status!r}, but snapshot status "
                                f"{snapshot_status!r} maps to {expected!r}"))
    if live_status == expected:
        return findings
    if _before(expected, live_status):
        findings.append(Finding(item_name, FindingKind.STATUS_ADVANCED,
                                f"status moved on since the snapshot: {snapshot_status!r} -> "
                                f"{expected!r} -> {live_status!r}"))
    else:
        findings.append(Finding(item_name, FindingKind.STATUS_MAPPING,
                                f"status {live_status!r} does not follow from snapshot status "
                                f"{snapshot_status!r} (expected {expected!r} or a later one)"))
    return findings


def check_item(
    item: Mapping[str, Any],
    *,
    fresh_count: int,
    snapshot_item: Mapping[str, Any] | None = None,
    migration_status: Any = None,
    strict: bool = False,
    show_values: bool = False,
) -> list[Finding]:
    """Every finding about one live item (plain values). See the module doc for ``strict``."""
    schema = active_schema()
    item_name = str(schema.key.describe(item))
    if is_newer(item, schema):
        return [Finding(item_name, FindingKind.NEWER_VERSION, f"{schema.version_field} {item.get(schema.version_field)} is "
                        f"newer than this declaration ({schema.version}): verify it with that version")]
    findings = []
    problems = validate_item(item)
    if problems:
        findings.append(Finding(item_name, FindingKind.INVALID,
                                "; ".join(problems if show_values else map(without_values, problems))))
    for aggregate in schema.aggregates[:1]:  # a declaration keeps at most one (chalicelib.schema.check)
        stored = as_count(item.get(aggregate.name))
        if stored is None or stored == fresh_count:
            continue
        findings.append(Finding(item_name, FindingKind.COUNT_MISMATCH,
                                f"{aggregate.name} is {stored}, {aggregate.source.table} table has {fresh_count}"))
    if snapshot_item is not None:
        findings += check_status(item_name, schema.status(snapshot_item), schema.status(item), migration_status)
        changed = differing_attributes(snapshot_item, item, ignore=schema.owned)
        if changed:
            named = describe_changes(snapshot_item, item, changed, show_values=show_values)
            findings.append(
                Finding(item_name, FindingKind.UNOWNED_CHANGED, f"attributes the migration does not own changed since the "
                        f"snapshot: {named}") if strict else
                Finding(item_name, FindingKind.CHANGED_BY_APPLICATION, f"not written by the migration (its ledger), so "
                        f"changed by another writer since the snapshot: {named}"))
    return findings


def unowned_writes(item_name: str, changes: Mapping[str, Any], read: Mapping[str, Any] | None, *,
                   show_values: bool = False, removed: Iterable[str] = ()) -> list[Finding]:
    """A ledger entry (the fields one migration write set or removed, the item as read) that
    writes an attribute the migration does not own: a failure naming each such attribute."""
    owned = active_schema().owned
    unowned = {name: value for name, value in changes.items() if name not in owned}
    unowned_removed = sorted(name for name in removed if name not in owned)
    if unowned_removed:
        return [Finding(item_name, FindingKind.UNOWNED_WRITTEN, "the migration removed attributes it does not own "
                        f"(its ledger): {', '.join(unowned_removed)}")]
    if not unowned:
        return []
    before = dict(read or {})
    changed = differing_attributes(before, {**before, **unowned}, only=unowned)
    changed = changed or {name: "changed" for name in unowned}  # the same value written again is still a write
    return [Finding(item_name, FindingKind.UNOWNED_WRITTEN, "the migration wrote attributes it does not own (its ledger): "
                    + describe_changes(before, {**before, **unowned}, changed, show_values=show_values))]


def missing_since_snapshot(names: Iterable[str]) -> list[Finding]:
    return [Finding(e, FindingKind.MISSING, "in the snapshot but no longer in the table") for e in sorted(names)]


def created_after_snapshot(names: Iterable[str]) -> list[Finding]:
    return [Finding(e, FindingKind.CREATED_AFTER_SNAPSHOT, "not in the snapshot: created after it") for e in sorted(names)]


def orphan_source_rows(counts: Mapping[str, int] | CountStore, known: Container[str]) -> list[Finding]:
    """Source rows whose item does not exist (not in ``known``). A note: the migration never
    writes the source table. Only the orphans are held, not the counts."""
    source = active_schema().aggregates[0].source.table
    return [
        Finding(e, FindingKind.ORPHAN_SOURCE_ROWS, f"{n} {source} row(s) but no such item")
        for e, n in sorted((e, n) for e, n in counts.items() if e not in known)
    ]


def ungrouped_source_rows(seen: SourceRows, table: str, *, accept_zero_counts: bool = False) -> list[Finding]:
    """Source rows read that count for no item (they lack a group_by attribute), named by the source
    table. Verify judges the counts with the declaration's group_by, so it does not take that
    group_by on trust: when no row read belongs to an item it fails (unless zeros were accepted,
    ``--accept-zero-counts``); when some do, it is a note."""
    if not seen.ungrouped:
        return []
    schema = active_schema()
    aggregate = schema.aggregates[0]
    missing = seen.missing(aggregate) or list(aggregate.group_by)
    lacking = missing[0] if len(missing) == 1 else f"one of {', '.join(missing)}"
    reason = (f"{seen.ungrouped} of the {seen.rows} {table} rows carry no {lacking}, so they count for no "
              f"{schema.table} item")
    if seen.grouped or accept_zero_counts:
        return [Finding(table, FindingKind.SOURCE_ROWS_IN_NO_GROUP, reason)]
    return [Finding(table, FindingKind.UNGROUPED_SOURCE_ROWS, f"{reason}: check the aggregate's group_by")]


def unmatched_source_rows(seen: SourceRows, items_with_rows: int, table: str, *,
                          accept_zero_counts: bool = False) -> list[Finding]:
    """Source rows grouped (a scan of the whole source) of which none names an item that exists
    (``items_with_rows`` 0): the group_by names the wrong attributes, or in another order than the
    key. A failure, as for rows in no group (a note with ``accept_zero_counts``)."""
    if not seen.grouped or items_with_rows:
        return []
    schema = active_schema()
    aggregate = schema.aggregates[0]
    reason = (f"none of the {seen.grouped} {table} rows grouped by {', '.join(aggregate.group_by)} names a "
              f"{schema.table} item that exists")
    if accept_zero_counts:
        return [Finding(table, FindingKind.SOURCE_ROWS_IN_NO_GROUP, reason)]
    return [Finding(table, FindingKind.UNGROUPED_SOURCE_ROWS, f"{reason}: check the aggregate's group_by "
                    f"(the item's key in the order of {schema.table}'s key: {', '.join(schema.key.names)})")]
