"""The migrated table's stream: upgrade old-shape writes in place; our own writes come back current.

A record is handled from its new image. An image that is already valid in the current shape
(every write this handler makes, and every new-shape write of the application) returns before
any read or write, which is what stops the handler from feeding on its own stream.

Within one batch only the last record of each item is applied: one item's records arrive in
order on one shard, so the last new image is the freshest state and covers the earlier ones
(each of which would otherwise cost an aggregate query and a conditional write that fails). The
earlier records still count for what the last image cannot say (``carry``): an old writer's
whole-item put drops the fields the legacy shape has no place for, and each transition is dated
by the record that made it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.schema import active_schema, needs_upgrade
from chalicelib.schema.upgrade import is_newer
from chalicelib.streams.batch import BatchResult, Rejections, run_batch
from chalicelib.streams.carry import (
    ImageChange,
    carry_into,
    known_state,
    moved_pairs,
    pair_knowledge,
    written_names,
)
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.errors import PermanentFailure, RetryableFailure
from chalicelib.streams.failures import Failure, item_key
from chalicelib.streams.mirrored import hand_over_new_item
from chalicelib.streams.observability import (
    CURRENT,
    NEWER,
    REFUSED,
    SKIPPED,
    SUPERSEDED,
    UPGRADED,
    loggable_reasons,
    logger,
)
from chalicelib.streams.records import StreamChange, parse_record, require_keys
from chalicelib.upgrader import UpgradeResult, keep_maintained, upgrade_in_place


class UpgradeContended(RetryableFailure):
    """The item kept changing under the upgrade; the record is retried with its batch."""


def handle_target_change(
    change: StreamChange, deps: Dependencies, earlier: Sequence[StreamChange] = ()
) -> str:
    """Apply one record of the migrated table's stream (``earlier``: the batch's previous records
    of the same item, oldest first). Returns the outcome name; raises PermanentFailure or a
    retryable error (see ``errors``)."""
    schema = active_schema()
    require_keys(change, schema.key.names, deps.settings.target_table)
    if change.event_name == "REMOVE" or change.new_image is None:
        return SKIPPED
    hand_over_new_item(change, earlier, deps)  # a new item's count kept by a mirror from the start
    if not needs_upgrade(change.new_image):
        return CURRENT
    keys = {**{name: change.keys.get(name) for name in schema.key.names}, "sequenceNumber": change.sequence_number}
    if is_newer(change.new_image, schema):
        # Another deployment runs a newer declaration: its live path owns this row.
        logger.info("item of a newer schema version left untouched", extra={**keys, schema.version_field: schema.version})
        return NEWER
    images = [ImageChange(c.old_image, c.new_image, c.observed_at_ms) for c in (*earlier, change)]
    held, names, image = known_state(images), written_names(images), change.new_image
    outcome = upgrade_in_place(
        deps.store,
        image,
        count_source=keep_maintained({name: counter.count for name, counter in deps.counters.items()}),
        observed_at_ms=change.observed_at_ms,
        carry=lambda item: carry_into(item, held, image),
        written=lambda item: pair_knowledge(item, image, names),
        from_image=True,
    )
    if outcome.result is UpgradeResult.UPGRADED:
        written = sorted(outcome.changes)
        logger.info("item upgraded", extra={**keys, "fields": written, "attempts": outcome.attempts})
        return UPGRADED
    if outcome.result is UpgradeResult.CURRENT:
        if names and outcome.before is not None and names <= moved_pairs(outcome.before, image):
            logger.info("renamed attribute changed again since this record; its later record decides", extra=keys)
            return SUPERSEDED
        return CURRENT  # a newer write already in the table is current
    if outcome.result is UpgradeResult.NEWER:
        logger.info("item of a newer schema version left untouched", extra=keys)
        return NEWER
    if outcome.result is UpgradeResult.GONE:
        logger.info("item deleted before it could be upgraded", extra=keys)
        return SKIPPED
    if outcome.result is UpgradeResult.REFUSED:
        if _only_counts_changed(change):
            # The recount wrote an aggregate on an item that was already refused (and reported)
            # in its previous state; the count cannot have fixed or broken it.
            logger.info("refused item recounted; already reported",
                        extra={**keys, "reasons": loggable_reasons(outcome.reasons)})
            return SKIPPED
        logger.warning("item refused by the upgrade rule", extra={**keys, "reasons": loggable_reasons(outcome.reasons)})
        deps.failures.record(
            Failure.of(change, item_key=item_key(schema.table, *(change.keys.get(n) for n in schema.key.names)),
                       reasons=outcome.reasons, table=deps.settings.target_table)
        )
        return REFUSED
    raise UpgradeContended(
        f"item {outcome.item_name!r} changed under {outcome.attempts} upgrade attempts; will retry"
    )


def _only_counts_changed(change: StreamChange) -> bool:
    """A MODIFY whose images differ only in the fields the aggregate recounts write."""
    if change.event_name != "MODIFY" or change.old_image is None or change.new_image is None:
        return False
    names = (set(change.old_image) | set(change.new_image)) - active_schema().aggregate_fields
    return all(change.old_image.get(name) == change.new_image.get(name) for name in names)


def _wire_name(keys: Any) -> str | None:
    """The item's name (``Key.name_of``) from a record's wire-format Keys (None: unreadable)."""
    if not isinstance(keys, Mapping):
        return None
    plain = {n: v.get("S") if isinstance(v, Mapping) else None for n, v in keys.items()}
    return active_schema().key.name_of(plain)


def last_record_per_item(event: Mapping[str, Any]) -> dict[str, str]:
    """item name -> sequence number of that item's last record in the batch that can be read.

    Reads keys and sequence numbers, and decodes only each item's last record (to make sure
    an undecodable last record, which is recorded as a failure, does not hide the ones before
    it); the other images are deserialized once, by run_batch.
    """
    records: dict[str, list[Mapping[str, Any]]] = {}
    for raw in event.get("Records", []):
        body = raw.get("dynamodb")
        item_name = _wire_name(body.get("Keys")) if isinstance(body, Mapping) else None
        if item_name is not None and "SequenceNumber" in body:
            records.setdefault(item_name, []).append(raw)
    last: dict[str, str] = {}
    for item_name, raws in records.items():
        for raw in reversed(raws):
            try:
                last[item_name] = parse_record(raw).sequence_number
                break
            except PermanentFailure:
                continue
    return last


def process_target_batch(
    event: Mapping[str, Any], deps: Dependencies, context: Any = None
) -> BatchResult:
    """Handle one Lambda batch from the migrated table's stream: the last record of each item,
    knowing the earlier ones (records are handled in order, so they have been seen by then)."""
    schema = active_schema()
    last = last_record_per_item(event)
    seen: dict[str, list[StreamChange]] = {}

    def handle(change: StreamChange) -> str:
        item_name = schema.key.name_of(change.keys)
        if item_name is not None and last.get(item_name) != change.sequence_number:
            seen.setdefault(item_name, []).append(change)
            return SUPERSEDED
        earlier = seen.pop(item_name, []) if item_name is not None else []
        return handle_target_change(change, deps, earlier)

    rejections = Rejections(deps.failures, deps.settings.target_table, schema.table, schema.key.names)
    return run_batch(event, handle, rejections, context)
