"""Building conditional DynamoDB requests: placeholders, "still as read" conditions, SET clauses.

One place for the guard every write of ours carries (the upgrade, the count, restore's reverts,
puts and deletes): the item exists and the guarded attributes are exactly as they were read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from chalicelib.settle import Intended, Settled, is_unclear


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

    def update_clause(self, sets: Mapping[str, Any], removes: Iterable[str] = ()) -> str:
        """``SET a = :v, ... REMOVE b, ...`` for typed ``sets`` and attribute names ``removes``."""
        clauses = [self.set_clause(sets)] if sets else []
        removed = sorted(removes)
        if removed:
            clauses.append("REMOVE " + ", ".join(self.name(f) for f in removed))
        return " ".join(clauses)

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ExpressionAttributeNames": self.names}
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


MAX_UNCLEAR = 3  # unclear outcomes in a row before the error is raised after all


@dataclass(frozen=True)
class Sent:
    """How a conditional request ended: written, or refused by its condition.

    ``current`` is, after a refused request sent with ``return_current``, the item as the
    failed condition saw it (typed JSON; None when the item does not exist). ``settled`` says
    how an unclear outcome (5xx, lost connection; see ``chalicelib.settle``) was found out."""

    written: bool
    current: dict[str, Any] | None = None
    settled: Settled | None = None


def send_conditional(call: Callable[..., Any], *, return_current: bool = False, intended: Intended | None = None,
                     **kwargs: Any) -> Sent:
    """Send a conditional request; other errors are raised.

    ``return_current`` asks DynamoDB for the item as it is when the condition fails
    (ReturnValuesOnConditionCheckFailure=ALL_OLD), which saves the re-read a retry needs.
    ``intended`` (what the item holds once the write applied) lets an unclear outcome be settled
    by reading the item back, and a failed condition of a resent request that only met this very
    write's earlier landing (a 5xx after it applied, then botocore's retry) count as written."""
    if return_current:
        kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    unclear = 0
    while True:
        try:
            call(**kwargs)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                # botocore resent it (RetryAttempts): an earlier try may have landed and failed
                # this one's condition; so may ours.
                resent = unclear > 0 or bool(error.response.get("ResponseMetadata", {}).get("RetryAttempts"))
                return _refused(error, intended if resent else None, after_unclear=resent, returned=return_current)
            if intended is None or not is_unclear(error) or unclear >= MAX_UNCLEAR:
                raise
        except (ReadTimeoutError, ConnectionClosedError):
            if intended is None or unclear >= MAX_UNCLEAR:
                raise
        else:
            return Sent(True, settled=Settled.RESENT if unclear else None)
        unclear += 1
        if intended.applied(intended.read_back()):
            return Sent(True, settled=Settled.APPLIED)
        # Not applied: send it again; its own condition tells "still as read" from "changed since".


def _refused(error: ClientError, intended: Intended | None, *, after_unclear: bool, returned: bool) -> Sent:
    found = error.response.get("Item")
    current = found if isinstance(found, dict) else None
    if intended is not None:
        now = current if returned else intended.read_back()
        if intended.applied(now):
            return Sent(True, settled=Settled.APPLIED)
        current = now if returned else current
    return Sent(False, current, settled=Settled.CONFLICT if after_unclear else None)


def conditional(call: Callable[..., Any], *, intended: Intended | None = None, **kwargs: Any) -> bool:
    """Send a conditional request: False when its condition failed, other errors raised."""
    return send_conditional(call, intended=intended, **kwargs).written
