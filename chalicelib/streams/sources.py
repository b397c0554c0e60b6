"""An aggregate's source stream (order_items): keep each touched item's aggregate equal to a
fresh value.

Per batch, the records are grouped by the target items they touch (``Aggregate.group``: the
source attributes that hold the target's key) and each item is recounted once per aggregate over
this table (``refresh_aggregate``: consistent Query, write conditioned on the aggregate's version
attribute). Recounting is idempotent, so a duplicated or retried batch leaves the same values. A
record is a batch item failure when the recount of one of its items failed; records whose target
item does not exist are recorded in the failures table instead (a value is never written to a
missing item, so no phantom item appears).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.counts import CountOutcome, CountResult, refresh_aggregate
from chalicelib.schema import Schema, active_schema
from chalicelib.schema.aggregate import Aggregate
from chalicelib.streams.batch import BatchResult, Rejections, run_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.errors import PermanentFailure, RetryableFailure, is_retryable
from chalicelib.streams.failures import Failure, source_item_key
from chalicelib.streams.mirrored import process_mirror_batch
from chalicelib.streams.observability import (
    APPLIED,
    COUNTED,
    REPORTED,
    SKIPPED,
    loggable_error,
    logger,
)
from chalicelib.streams.records import StreamChange, parse_record, require_keys
from chalicelib.streams.ungrouped import record_ungrouped

Touch = tuple[str, str]  # (aggregate name, target item name)


class CountFailed(RetryableFailure):
    """The recount of an item this record touches failed transiently; retried with the batch."""


def aggregates_over(table: str, schema: Schema | None = None) -> tuple[Aggregate, ...]:
    """The aggregates whose source is the declared ``table``."""
    return tuple(a for a in (schema or active_schema()).aggregates if a.source.table == table)


def touched(change: StreamChange, aggregates: tuple[Aggregate, ...]) -> list[Touch]:
    """Items whose aggregates this record can change: INSERT/REMOVE always, MODIFY only if it
    moves the source item from one group to another, into one or out of one (a group attribute
    outside the source's key set or removed: its group before and after differ)."""
    key = active_schema().key
    out: list[Touch] = []
    for aggregate in aggregates:
        names: list[str] = []
        for source in (change.keys, change.old_image or {}, change.new_image or {}):
            group = aggregate.group(source)
            name = key.name_of_values(group) if group is not None else None
            if name is not None and name not in names:
                names.append(name)
        if change.event_name == "MODIFY" and aggregate.group(change.old_image or {}) == aggregate.group(
                change.new_image or {}):
            continue
        out += [(aggregate.name, name) for name in names]
    return out


def _refresh_all(touches: list[Touch], deps: Dependencies) -> dict[Touch, CountOutcome | Exception]:
    results: dict[Touch, CountOutcome | Exception] = {}
    for touch in touches:
        name, item_name = touch
        try:
            results[touch] = refresh_aggregate(deps.store, deps.counters[name], item_name)
        except Exception as error:  # fails only this item's records (retried or recorded)
            logger.warning("recount failed", extra={"aggregate": name, "item": item_name, **loggable_error(error)})
            results[touch] = error
    return results


def _settle(change: StreamChange, table: str, results: Mapping[Touch, CountOutcome | Exception],
            deps: Dependencies) -> str:
    schema = active_schema()
    aggregates = aggregates_over(table)
    require_keys(change, aggregates[0].source.key.names, deps.settings.table(table))
    touches = touched(change, aggregates)
    if not touches:
        return REPORTED if record_ungrouped(change, table, aggregates, deps) else SKIPPED
    missing: list[Touch] = []
    for touch in touches:
        result = results[touch]
        if isinstance(result, Exception):
            if is_retryable(result):
                raise CountFailed(f"recount of {touch[0]} of {touch[1]!r} failed: {result!r}") from result
            raise PermanentFailure([f"recount of {touch[0]} of {touch[1]!r} failed: {type(result).__name__}: {result}"])
        if result.result is CountResult.CONTENDED:
            raise CountFailed(f"recount of {touch[0]} of {touch[1]!r} kept racing ({result.attempts} attempts)")
        if result.result is CountResult.ITEM_MISSING:
            missing.append(touch)
    # A REMOVE after its item was deleted is ordinary clean-up; a source item added to an item
    # that does not exist is what an operator must hear about.
    new = change.new_image
    reportable = [t for t in missing if new is not None
                  and (g := schema.aggregate(t[0]).group(new)) is not None and schema.key.name_of_values(g) == t[1]]
    if not reportable:
        return APPLIED if len(missing) < len(touches) else SKIPPED
    source_key = aggregates[0].source.key.names
    for name, item_name in reportable:
        reason = f"{schema.table} item {item_name!r} does not exist in {deps.settings.target_table}"
        logger.warning("source item of a missing item", extra={"aggregate": name, "item": item_name,
                                                                "sequenceNumber": change.sequence_number})
        deps.failures.record(Failure.of(change, item_key=source_item_key(table, source_key, change), reasons=[reason],
                                        table=deps.settings.table(table)))
    return REPORTED


def process_source_batch(
    event: Mapping[str, Any], deps: Dependencies, context: Any = None, *, table: str | None = None
) -> BatchResult:
    """Recount every item the batch touches once per aggregate over the declared ``table`` (the
    first aggregate's source unless given), then settle each record against the result."""
    table = table or active_schema().aggregates[0].source.table
    aggregates = aggregates_over(table)
    if aggregates[0].mirror is not None:  # kept by a membership mirror: one transaction per record
        return process_mirror_batch(event, deps, aggregates[0], context)
    key_names = aggregates[0].source.key.names
    actual = deps.settings.table(table)
    touches: list[Touch] = []
    for raw in event.get("Records", []):
        try:
            change = parse_record(raw)
            require_keys(change, key_names, actual)
        except PermanentFailure:
            continue  # settled (recorded) by run_batch; must not stop the others being counted
        touches.extend(t for t in touched(change, aggregates) if t not in touches)
    results = _refresh_all(touches, deps)
    rejections = Rejections(deps.failures, actual, table, key_names)
    result = run_batch(event, lambda change: _settle(change, table, results, deps), rejections, context)
    result.stats[COUNTED] += sum(
        1
        for outcome in results.values()
        if isinstance(outcome, CountOutcome)
        and outcome.result in (CountResult.UPDATED, CountResult.UNCHANGED)
    )
    return result

