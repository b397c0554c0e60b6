"""Access to the events table: consistent reads and conditional, owned-field-only writes.

No write here ever replaces a whole item: every write is an UpdateItem that SETs only the
fields it is given and only when the fields it was computed from are still as they were read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.expressions import Expression, conditional
from chalicelib.items import to_python, typed_value

ABSENT: Any = object()  # expected value meaning "the attribute must not exist"


class EventStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name

    def get(self, event_id: str, *, consistent: bool = True) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=self.table_name,
            Key={"eventId": {"S": event_id}},
            ConsistentRead=consistent,
        )
        item = response.get("Item")
        return to_python(item) if item is not None else None

    def conditional_set(
        self,
        event_id: str,
        changes: Mapping[str, Any],
        expected: Mapping[str, Any],
    ) -> bool:
        """SET ``changes`` on an existing event if every ``expected`` field still holds its value.

        ``expected`` maps field -> value the item must have, or ABSENT when it must not exist.
        Returns False when the condition failed (item changed or gone); raises other errors.
        """
        if not changes:
            return True
        expr = Expression()
        read = {field: typed_value(value) for field, value in expected.items() if value is not ABSENT}
        condition = expr.as_read("eventId", read, expected.keys())
        update = expr.set_clause({field: typed_value(value) for field, value in changes.items()})
        return conditional(
            self.dynamodb.update_item,
            TableName=self.table_name,
            Key={"eventId": {"S": event_id}},
            UpdateExpression=update,
            ConditionExpression=condition,
            **expr.kwargs(),
        )


def expected_state(item: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The condition that ``fields`` are exactly as in ``item`` (absent ones still absent)."""
    return {field: item.get(field, ABSENT) for field in fields}
