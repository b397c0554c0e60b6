"""Restore's conditional writes, on typed items (the backup's exact typed values are written).

Each write is conditioned on the live item being as it was read, so a concurrent change makes
the write fail (returns False) instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

KEY = "eventId"


class _Expression:
    """Collects placeholder names and values for one request."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, typed: Mapping[str, Any]) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = typed
        return placeholder

    def as_read(self, read: Mapping[str, Any], fields: Iterable[str]) -> str:
        """Condition: the item exists and each of ``fields`` is as in ``read`` (absent stays absent)."""
        conditions = [f"attribute_exists({self.name(KEY)})"]
        for field in sorted(fields):
            if field == KEY:
                continue
            if field in read:
                conditions.append(f"{self.name(field)} = {self.value(read[field])}")
            else:
                conditions.append(f"attribute_not_exists({self.name(field)})")
        return " AND ".join(conditions)

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ExpressionAttributeNames": self.names}
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


def _conditional(call: Any, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_typed(dynamodb: Any, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    return dynamodb.get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")


def revert_fields(
    dynamodb: Any,
    table: str,
    read: Mapping[str, Any],
    sets: Mapping[str, Any],
    removes: Iterable[str],
    guarded: Iterable[str],
) -> bool:
    """SET ``sets`` / REMOVE ``removes`` on the item read as ``read``, if ``guarded`` fields are
    still as read. Every other attribute is left alone: a concurrent change to it survives."""
    expr = _Expression()
    condition = expr.as_read(read, guarded)
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(f"{expr.name(f)} = {expr.value(v)}" for f, v in sorted(sets.items())))
    removes = sorted(removes)
    if removes:
        clauses.append("REMOVE " + ", ".join(expr.name(f) for f in removes))
    if not clauses:
        return True
    return _conditional(dynamodb.update_item, TableName=table, Key={KEY: read[KEY]},
                        UpdateExpression=" ".join(clauses), ConditionExpression=condition, **expr.kwargs())


def put_over(dynamodb: Any, table: str, item: Mapping[str, Any], read: Mapping[str, Any] | None) -> bool:
    """PutItem ``item`` if the live item is exactly ``read`` (every attribute), or still absent."""
    expr = _Expression()
    if read is None:
        condition = f"attribute_not_exists({expr.name(KEY)})"
    else:
        condition = expr.as_read(read, read.keys())
    return _conditional(dynamodb.put_item, TableName=table, Item=dict(item),
                        ConditionExpression=condition, **expr.kwargs())


def delete_as_read(dynamodb: Any, table: str, read: Mapping[str, Any]) -> bool:
    """DeleteItem if the live item is still exactly ``read``."""
    expr = _Expression()
    condition = expr.as_read(read, read.keys())
    return _conditional(dynamodb.delete_item, TableName=table, Key={KEY: read[KEY]},
                        ConditionExpression=condition, **expr.kwargs())
