"""Settling a conditional write whose outcome was unclear.

DynamoDB documents that after a 5xx answer (or a connection lost mid-request) a write may or
may not have happened. botocore retries such a write; when its first try did land, the retry
then fails its own condition (the item is no longer as read), which on its own would read as
"someone else changed the item". Every write of ours is conditional and knows what the item
holds once it applied, so the outcome can be found out instead of guessed:

- ``APPLIED``: the item now holds exactly what the write sets (and lacks what it removes);
- ``RESENT``: it did not apply and the item is still as read, so the same conditional write was
  sent again and landed;
- ``CONFLICT``: it did not apply and the item was changed by someone else: a conflict, like any
  failed condition.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from chalicelib.items import python_value, to_python

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient


class Settled(enum.Enum):
    APPLIED = "applied"
    RESENT = "resent"
    CONFLICT = "conflict"


def is_unclear(error: BaseException) -> bool:
    """True when ``error`` leaves open whether the request was applied: a 5xx answer, or a
    connection closed or timed out after the request was sent (a refused connection is clear)."""
    if isinstance(error, ClientError):
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500
    return isinstance(error, (ReadTimeoutError, ConnectionClosedError))


@dataclass(frozen=True)
class Intended:
    """What a write leaves in the item, and how to read the item back (consistently, typed)."""

    read_back: Callable[[], dict[str, Any] | None]
    applied: Callable[[dict[str, Any] | None], bool]

    @classmethod
    def update(cls, dynamodb: DynamoDBClient, table: str, key: Mapping[str, Any], sets: Mapping[str, Any],
               removes: Iterable[str] = ()) -> Intended:
        """An UpdateItem that SETs typed ``sets`` and REMOVEs ``removes`` on the item at ``key``."""
        removed = tuple(removes)

        wanted = {name: python_value(value) for name, value in sets.items()}

        def applied(item: dict[str, Any] | None) -> bool:
            # Compared as values, not as text: the service may spell a number it stored otherwise.
            return (item is not None and all(name in item and python_value(item[name]) == value
                                             for name, value in wanted.items())
                    and not any(name in item for name in removed))

        return cls(_reader(dynamodb, table, key), applied)

    @classmethod
    def put(cls, dynamodb: DynamoDBClient, table: str, key: Mapping[str, Any], item: Mapping[str, Any]) -> Intended:
        whole = to_python(item)
        return cls(_reader(dynamodb, table, key), lambda found: found is not None and to_python(found) == whole)

    @classmethod
    def delete(cls, dynamodb: DynamoDBClient, table: str, key: Mapping[str, Any]) -> Intended:
        return cls(_reader(dynamodb, table, key), lambda found: found is None)


def _reader(dynamodb: DynamoDBClient, table: str, key: Mapping[str, Any]) -> Callable[[], dict[str, Any] | None]:
    def read() -> dict[str, Any] | None:
        found = dynamodb.get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")
        return found if isinstance(found, dict) else None

    return read
