"""Access to the migrated table (the declaration's ``table``, keyed by its ``key``): consistent reads and conditional, guarded, field-level writes.

No write here ever replaces a whole item: every write is an UpdateItem that SETs (and
REMOVEs) only the fields it is given and only when the fields it was computed from are still as they were read.
A write whose guard fails returns the item as it is now (ReturnValuesOnConditionCheckFailure),
so the caller can re-plan without a second read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.expressions import Expression, send_conditional
from chalicelib.items import to_python, typed_value
from chalicelib.planner import ABSENT, expected_state
from chalicelib.schema import active_schema
from chalicelib.schema.key import Key
from chalicelib.settle import Intended, Settled

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient

__all__ = ["ABSENT", "ItemStore", "ItemWrites", "WriteResult", "expected_state"]


@dataclass(frozen=True)
class WriteResult:
    written: bool
    current: dict[str, Any] | None = None  # after a failed guard: the item now (None: gone)
    settled: Settled | None = None  # how an unclear outcome (5xx, lost connection) was found out


class ItemWrites(Protocol):
    """What the write loops need from a store of items (``ItemStore``, or a test double).
    An item is named by ``Key.name_of`` (its partition key value for a table without sort key)."""

    def get(self, name: str, *, consistent: bool = True) -> dict[str, Any] | None: ...

    def conditional_set(
        self, name: str, changes: Mapping[str, Any], guard: Mapping[str, Any], removes: tuple[str, ...] = ()
    ) -> WriteResult: ...


class ItemStore:
    """The migrated table's items (``key``: the active declaration's unless given)."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, key: Key | None = None) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.key = key or active_schema().key

    def get(self, name: str, *, consistent: bool = True) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=self.table_name,
            Key=self.key.typed(name),
            ConsistentRead=consistent,
        )
        item = response.get("Item")
        return to_python(item) if item is not None else None

    def conditional_set(
        self,
        name: str,
        changes: Mapping[str, Any],
        guard: Mapping[str, Any],
        removes: tuple[str, ...] = (),
    ) -> WriteResult:
        """SET ``changes`` and REMOVE ``removes`` on an existing item, in one UpdateItem, if every
        ``guard`` field still holds its value.

        ``guard`` maps field -> value the item must have, or ABSENT when it must not exist.
        A failed guard (item changed or gone) is a result, not an error; other errors raise.
        """
        if not changes and not removes:
            return WriteResult(True)
        expr = Expression()
        read = {field: typed_value(value) for field, value in guard.items() if value is not ABSENT}
        condition = expr.as_read(self.key.partition, read, guard.keys())
        sets = {field: typed_value(value) for field, value in changes.items()}
        update = expr.update_clause(sets, removes)
        key = self.key.typed(name)
        sent = send_conditional(
            self.dynamodb.update_item,
            return_current=True,
            intended=Intended.update(self.dynamodb, self.table_name, key, sets, removes),
            TableName=self.table_name,
            Key=key,
            UpdateExpression=update,
            ConditionExpression=condition,
            **expr.kwargs(),
        )
        if sent.written:
            return WriteResult(True, settled=sent.settled)
        return WriteResult(False, to_python(sent.current) if sent.current is not None else None, sent.settled)
