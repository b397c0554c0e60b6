"""Building conditional DynamoDB requests: placeholders, "still as read" conditions, SET clauses.

One place for the guard every write of ours carries (the upgrade, the count, restore's reverts,
puts and deletes): the item exists and the guarded attributes are exactly as they were read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


class Expression:
    """Collects placeholder names and values for one request (values are typed JSON)."""

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

    def as_read(self, key: str, read: Mapping[str, Any], fields: Iterable[str]) -> str:
        """Condition: the item exists and each of ``fields`` is as in ``read`` (absent stays absent)."""
        conditions = [f"attribute_exists({self.name(key)})"]
        for field in sorted(fields):
            if field == key:
                continue
            if field in read:
                conditions.append(f"{self.name(field)} = {self.value(read[field])}")
            else:
                conditions.append(f"attribute_not_exists({self.name(field)})")
        return " AND ".join(conditions)

    def set_clause(self, sets: Mapping[str, Any]) -> str:
        """``SET a = :v, ...`` for typed ``sets`` ("" when there is nothing to set)."""
        if not sets:
            return ""
        return "SET " + ", ".join(f"{self.name(f)} = {self.value(v)}" for f, v in sorted(sets.items()))

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ExpressionAttributeNames": self.names}
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


@dataclass(frozen=True)
class Sent:
    """How a conditional request ended: written, or refused by its condition.

    ``current`` is, after a refused request sent with ``return_current``, the item as the
    failed condition saw it (typed JSON; None when the item does not exist)."""

    written: bool
    current: dict[str, Any] | None = None


def send_conditional(call: Callable[..., Any], *, return_current: bool = False, **kwargs: Any) -> Sent:
    """Send a conditional request; other errors are raised.

    ``return_current`` asks DynamoDB for the item as it is when the condition fails
    (ReturnValuesOnConditionCheckFailure=ALL_OLD), which saves the re-read a retry needs."""
    if return_current:
        kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        call(**kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            current = error.response.get("Item")
            return Sent(False, current if isinstance(current, dict) else None)
        raise
    return Sent(True)


def conditional(call: Callable[..., Any], **kwargs: Any) -> bool:
    """Send a conditional request: False when its condition failed, other errors raised."""
    return send_conditional(call, **kwargs).written
