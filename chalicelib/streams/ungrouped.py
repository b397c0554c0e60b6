"""A source row that belongs to no item: recorded, never skipped quietly.

A row of an aggregate's source counts for the item its ``group_by`` attributes name. A row that
lacks one of them (a group attribute outside the source's key, absent or not a non-empty string)
counts for no item: either the row is damaged, or the declaration's ``group_by`` does not name the
attribute the rows carry (issue 31: every count would be 0). The operator must hear of it, so
the record is written to the failures table (``backfill failures``), naming the attribute; the
batch goes on.
"""

from __future__ import annotations

from chalicelib.schema import active_schema
from chalicelib.schema.aggregate import Aggregate
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.failures import Failure, item_key
from chalicelib.streams.observability import logger
from chalicelib.streams.records import StreamChange


def record_ungrouped(change: StreamChange, table: str, aggregates: tuple[Aggregate, ...], deps: Dependencies) -> bool:
    """Record ``change`` (of the declared source ``table``) when its new image belongs to no item
    of any of ``aggregates``; True when it was recorded. A REMOVE, or a record without a new image,
    adds nothing anywhere: not recorded."""
    image = change.new_image
    if change.event_name == "REMOVE" or image is None or any(a.group(image) is not None for a in aggregates):
        return False
    aggregate = aggregates[0]
    lacking = next(name for name in aggregate.group_by if not (isinstance(image.get(name), str) and image[name]))
    reason = (f"{table} row belongs to no {active_schema().table} item: it carries no {lacking} "
              f"(group_by of {aggregate.name}), so it counts for none")
    logger.warning("source row of no item", extra={"aggregate": aggregate.name, "attribute": lacking,
                                                   "sequenceNumber": change.sequence_number})
    deps.failures.record(Failure.of(
        change, item_key=item_key(table, *(change.keys.get(name) for name in aggregate.source.key.names)),
        reasons=[reason], table=deps.settings.table(table)))
    return True
