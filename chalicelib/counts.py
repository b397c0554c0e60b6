"""Keeping an aggregate exact (``itemCount``): recount with a consistent Query, write with
a version check.

Every write of the aggregate's value bumps its version attribute (``countVersion``), and every
such write is conditional on the version read *before* the value was computed. A recount that
raced with another one fails its condition and starts over, so the last value written is never
older than one that lost; any change of a source item after a count produces a later stream
record and a later recount. Recounting is idempotent, so duplicated or retried batches converge
on the same value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.backoff import Backoff
from chalicelib.item_store import ItemWrites
from chalicelib.items import to_python
from chalicelib.planner import ABSENT, next_version
from chalicelib.schema import Schema, active_schema
from chalicelib.schema.aggregate import Aggregate
from chalicelib.schema.values import same_typed

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient

MAX_ATTEMPTS = 8


class AggregateCounter:
    """Computes one aggregate of one target item from its source items: one strongly consistent
    Query on the source table's partition key (filtered on the other group attributes), counted
    by DynamoDB (Select=COUNT) when the aggregate reads no attribute of its own."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, aggregate: Aggregate | None = None,
                 schema: Schema | None = None) -> None:
        schema = schema or active_schema()
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.aggregate = aggregate or schema.aggregates[0]
        self.key = schema.key

    def _query(self, item_name: str) -> dict[str, Any]:
        aggregate = self.aggregate
        group = dict(zip(aggregate.group_by, self.key.values_of(item_name), strict=True))
        partition = aggregate.source.key.partition
        names: dict[str, str] = {}
        typed: dict[str, Any] = {}
        conditions = []
        for index, (attribute, value) in enumerate(sorted(group.items(), key=lambda kv: kv[0] != partition)):
            names[f"#g{index}"], typed[f":g{index}"] = attribute, {"S": value}
            conditions.append(f"#g{index} = :g{index}")
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": conditions[0],
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": typed,
            "ConsistentRead": True,
        }
        if len(conditions) > 1:
            kwargs["FilterExpression"] = " AND ".join(conditions[1:])
        if aggregate.reads:
            for index, attribute in enumerate(aggregate.reads):
                names[f"#r{index}"] = attribute
            kwargs["ProjectionExpression"] = ", ".join(f"#r{i}" for i in range(len(aggregate.reads)))
        else:
            kwargs["Select"] = "COUNT"
        return kwargs

    def count(self, item_name: str) -> int:
        """The aggregate's value for the target item named ``item_name`` (``Key.name_of``)."""
        total = 0
        kwargs = self._query(item_name)
        while True:
            page = self.dynamodb.query(**kwargs)
            if self.aggregate.reads:
                total += sum(self.aggregate.contribution(to_python(item)) for item in page.get("Items", []))
            else:
                total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class CountResult(enum.Enum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ITEM_MISSING = "item_missing"
    CONTENDED = "contended"


@dataclass(frozen=True)
class CountOutcome:
    result: CountResult
    count: int | None
    attempts: int


class Counter(Protocol):
    aggregate: Aggregate

    def count(self, item_name: str) -> int: ...


def refresh_aggregate(
    store: ItemWrites,
    counter: Counter,
    item_name: str,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    backoff: Backoff = Backoff(),  # noqa: B008 - immutable
) -> CountOutcome:
    """Make the aggregate ``counter`` computes, on the item named ``item_name``, equal a fresh value.

    The item is read once; after a lost race the failed write returns it as it is now. An item
    whose count a membership mirror keeps (it has the mirror's marker) is left alone: its count
    is the mirror's, and the write is conditioned on the marker's absence."""
    aggregate = counter.aggregate
    marker = aggregate.mirror.marker if aggregate.mirror is not None else None
    item = store.get(item_name)
    for attempt in range(1, max_attempts + 1):
        if item is None:
            return CountOutcome(CountResult.ITEM_MISSING, None, attempt)
        if marker is not None and marker in item:
            return CountOutcome(CountResult.UNCHANGED, None, attempt)
        fresh = counter.count(item_name)  # counted after the read whose version guards the write
        if aggregate.name in item and same_typed(item[aggregate.name], fresh):
            return CountOutcome(CountResult.UNCHANGED, fresh, attempt)
        sent = store.conditional_set(
            item_name,
            {aggregate.name: fresh, aggregate.version_field: next_version(item, aggregate)},
            {aggregate.version_field: item.get(aggregate.version_field, ABSENT),
             **({marker: ABSENT} if marker is not None else {})},
        )
        if sent.written:
            return CountOutcome(CountResult.UPDATED, fresh, attempt)
        item = sent.current
        if attempt < max_attempts:
            backoff.wait(attempt)
    return CountOutcome(CountResult.CONTENDED, None, max_attempts)
