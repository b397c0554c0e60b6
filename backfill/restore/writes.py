"""Restore's conditional writes, on typed items (the backup's exact typed values are written).

Each write is conditioned on the live item being as it was read, so a concurrent change makes
the write fail (returns False) instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.expressions import Expression, conditional
from chalicelib.schema import active_schema
from chalicelib.settle import Intended

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient


def get_typed(dynamodb: DynamoDBClient, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    return dynamodb.get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")


def revert_fields(
    dynamodb: DynamoDBClient,
    table: str,
    read: Mapping[str, Any],
    sets: Mapping[str, Any],
    removes: Iterable[str],
    guarded: Iterable[str],
) -> bool:
    """SET ``sets`` / REMOVE ``removes`` on the item read as ``read``, if ``guarded`` fields are
    still as read. Every other attribute is left alone: a concurrent change to it survives."""
    expr = Expression()
    condition = expr.as_read(active_schema().key.partition, read, guarded)
    removes = sorted(removes)
    update = expr.update_clause(sets, removes)
    if not update:
        return True
    key = active_schema().key.of_typed(read)
    return conditional(dynamodb.update_item, intended=Intended.update(dynamodb, table, key, sets, removes),
                       TableName=table, Key=key, UpdateExpression=update, ConditionExpression=condition,
                       **expr.kwargs())


def put_over(dynamodb: DynamoDBClient, table: str, item: Mapping[str, Any], read: Mapping[str, Any] | None) -> bool:
    """PutItem ``item`` if the live item is exactly ``read`` (every attribute), or still absent."""
    expr = Expression()
    if read is None:
        condition = f"attribute_not_exists({expr.name(active_schema().key.partition)})"
    else:
        condition = expr.as_read(active_schema().key.partition, read, read.keys())
    return conditional(dynamodb.put_item, intended=Intended.put(dynamodb, table, active_schema().key.of_typed(item), item),
                       TableName=table, Item=dict(item), ConditionExpression=condition, **expr.kwargs())


def delete_as_read(dynamodb: DynamoDBClient, table: str, read: Mapping[str, Any]) -> bool:
    """DeleteItem if the live item is still exactly ``read``."""
    expr = Expression()
    condition = expr.as_read(active_schema().key.partition, read, read.keys())
    key = active_schema().key.of_typed(read)
    return conditional(dynamodb.delete_item, intended=Intended.delete(dynamodb, table, key),
                       TableName=table, Key=key, ConditionExpression=condition, **expr.kwargs())
