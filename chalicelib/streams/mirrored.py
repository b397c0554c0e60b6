"""An aggregate source's stream when its count is kept by a membership mirror
(``chalicelib.mirror``): each record is applied on its own, whatever the group's size.

A record becomes membership changes of its source item: an INSERT joins its group, a REMOVE
leaves it, a MODIFY that moves the item to another group leaves one and joins the other (any
other MODIFY changes no membership). Each change is applied to the member's mirror row if the row
is older than the record, so redelivered, duplicated and retried batches, in any order, leave the
rows in the state of each member's newest record and the counts equal to the present rows.

Items not yet marked as kept by the mirror (while it is seeded) are recounted from the source
table once per batch, as with ``Recount()``: those a record flipped a row of, and those whose
row had already seen the record (a retry: the flip may have landed in an earlier delivery whose
recount failed), once a read shows they have no marker. A record whose item's recount failed is a
batch item failure, so it comes back and the recount runs again.

An item created after the mirror took over is handed over when the migrated table's stream
brings its INSERT (``hand_over_new_item``), if no source row of its group exists yet: every
member it gets from then on reaches the mirror, so its count is the mirror's from the start. One
that already has source rows (members added before it existed, whose records found no item and
wrote no row) stays recounted until ``backfill mirror seed`` runs again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.counts import CountResult, refresh_aggregate
from chalicelib.mirror import Applied, Membership, MirrorRefused, MirrorWriter, position
from chalicelib.schema import active_schema
from chalicelib.schema.aggregate import Aggregate
from chalicelib.streams.batch import BatchResult, Rejections, run_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.errors import PermanentFailure, RetryableFailure
from chalicelib.streams.failures import Failure, source_item_key
from chalicelib.streams.observability import (
    APPLIED,
    COUNTED,
    FAILED,
    REPORTED,
    SKIPPED,
    loggable_error,
    logger,
)
from chalicelib.streams.records import StreamChange, require_keys
from chalicelib.streams.ungrouped import record_ungrouped

MIRRORED = "mirrored"  # membership changes that moved a count (+-1)


class MirrorContended(RetryableFailure):
    """A mirror row or its item kept changing under this record; retried with the batch."""


def memberships(change: StreamChange, aggregate: Aggregate) -> list[Membership]:
    """The membership changes a record makes (module doc); [] when it makes none."""
    key = active_schema().key
    at = position(change.sequence_number)

    def where(image: Mapping[str, Any] | None) -> tuple[str, str] | None:
        source = {**change.keys, **(image or {})}
        group, member = aggregate.group(source), aggregate.member(source)
        return None if group is None or member is None else (key.name_of_values(group), member)

    before = where(change.old_image) if change.event_name != "INSERT" else None
    after = where(change.new_image) if change.event_name != "REMOVE" else None
    if change.event_name == "REMOVE" and before is None:
        before = where(None)  # an image-less REMOVE (KEYS_ONLY): the keys may still name the group
    if before == after:
        return []
    out = []
    if before is not None:
        out.append(Membership(*before, present=False, at=at))
    if after is not None:
        out.append(Membership(*after, present=True, at=at))
    return out


def writer_for(aggregate: Aggregate, deps: Dependencies) -> MirrorWriter:
    mirror = aggregate.mirror
    assert mirror is not None  # only mirrored aggregates come here
    return MirrorWriter(deps.dynamodb, aggregate, mirror_table=deps.settings.table(mirror.table),
                        target_table=deps.settings.target_table, target_key=active_schema().key)


def hand_over_new_item(change: StreamChange, earlier: Sequence[StreamChange], deps: Dependencies) -> None:
    """Mark an item whose INSERT is in this batch (module doc) for each mirrored aggregate whose
    source group is still empty: one consistent COUNT Query of it, then ``MirrorWriter.mark``."""
    schema = active_schema()
    image = change.new_image
    if image is None or not any(c.event_name == "INSERT" for c in (*earlier, change)):
        return
    name = schema.key.name_of(image)
    if name is None:
        return
    for aggregate in schema.aggregates:
        mirror = aggregate.mirror
        if mirror is None or mirror.marker in image:
            continue
        if deps.counters[aggregate.name].count(name) == 0:
            writer_for(aggregate, deps).mark(deps.store, name)


def process_mirror_batch(event: Mapping[str, Any], deps: Dependencies, aggregate: Aggregate,
                         context: Any = None) -> BatchResult:
    """Apply each record of the stream of ``aggregate``'s source to its mirror (module doc)."""
    table = aggregate.source.table
    key_names = aggregate.source.key.names
    actual = deps.settings.table(table)
    writer = writer_for(aggregate, deps)
    recount: dict[str, list[str]] = {}  # item -> sequence numbers of the records that touched it
    known_unmarked: set[str] = set()
    moved = 0

    def handle(change: StreamChange) -> str:
        nonlocal moved
        require_keys(change, key_names, actual)
        changes = memberships(change, aggregate)
        if not changes:
            return REPORTED if record_ungrouped(change, table, (aggregate,), deps) else SKIPPED
        missing = []
        for membership in changes:
            try:
                applied = writer.apply(membership)
            except MirrorRefused as refused:  # recorded in the failures table, never retried
                raise PermanentFailure([str(refused)]) from refused
            if applied is Applied.CONTENDED:
                raise MirrorContended(f"mirror row of {membership.member!r} in {membership.group!r} kept racing")
            if applied is Applied.ITEM_MISSING:
                missing.append(membership)
            elif applied is not Applied.COUNTED:  # UNMARKED, or maybe (STALE, REFRESHED): see _recount
                recount.setdefault(membership.group, []).append(change.sequence_number)
                known_unmarked.update([membership.group] if applied is Applied.UNMARKED else [])
            moved += applied is Applied.COUNTED
        reportable = [m for m in missing if m.present]  # a leave of a deleted item is clean-up
        if reportable:
            _report(change, reportable, aggregate, deps)
            return REPORTED
        return SKIPPED if len(missing) == len(changes) else APPLIED

    rejections = Rejections(deps.failures, actual, table, key_names)
    result = run_batch(event, handle, rejections, context)
    result.stats[MIRRORED] += moved
    _recount(recount, known_unmarked, aggregate, deps, result)
    return result


def _recount(touched: Mapping[str, list[str]], unmarked: set[str], aggregate: Aggregate, deps: Dependencies,
             result: BatchResult) -> None:
    """Recount each touched item without the marker once (those not known to be unmarked are read
    first); a failed recount makes its records batch item failures."""
    failed = {str(f["itemIdentifier"]) for f in result.response["batchItemFailures"]}
    marker = aggregate.mirror.marker if aggregate.mirror else ""
    for group, sequence_numbers in touched.items():
        try:
            if group not in unmarked and marker in (deps.store.get(group) or {marker: True}):
                continue  # kept by the mirror, or gone
            outcome = refresh_aggregate(deps.store, deps.counters[aggregate.name], group)
            ok = outcome.result is not CountResult.CONTENDED
        except Exception as error:  # the records come back; the recount is idempotent
            logger.warning("recount failed", extra={"aggregate": aggregate.name, "item": group, **loggable_error(error)})
            ok = False
        if ok:
            result.stats[COUNTED] += 1
            continue
        for sequence_number in sequence_numbers:
            if sequence_number not in failed:
                failed.add(sequence_number)
                result.response["batchItemFailures"].append({"itemIdentifier": sequence_number})
                result.stats[FAILED] += 1
                result.stats[APPLIED] -= result.stats[APPLIED] > 0


def _report(change: StreamChange, missing: list[Membership], aggregate: Aggregate, deps: Dependencies) -> None:
    schema = active_schema()
    table = aggregate.source.table
    for membership in missing:
        logger.warning("source item of a missing item", extra={"aggregate": aggregate.name, "item": membership.group,
                                                               "sequenceNumber": change.sequence_number})
        deps.failures.record(Failure.of(
            change, item_key=source_item_key(table, aggregate.source.key.names, change),
            reasons=[f"{schema.table} item {membership.group!r} does not exist in {deps.settings.target_table}"],
            table=deps.settings.table(table)))
