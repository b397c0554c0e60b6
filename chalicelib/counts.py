"""Keeping participantCount exact: recount with a consistent Query, write with a version check.

Every write of participantCount bumps countVersion, and every such write is conditional on the
countVersion read *before* the count was taken. A recount that raced with another one fails its
condition and starts over, so the last count written is never older than one that lost; any
participant change after a count produces a later stream record and a later recount. Recounting
is idempotent, so duplicated or retried batches converge on the same value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.backoff import Backoff
from chalicelib.events_store import EventWrites
from chalicelib.planner import ABSENT, next_count_version
from chalicelib.schema import COUNT_VERSION, PARTICIPANT_COUNT
from chalicelib.schema.values import same_typed

MAX_ATTEMPTS = 8


class ParticipantCounter:
    """Counts the participant rows of one event with a strongly consistent COUNT query."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name

    def count(self, event_id: str) -> int:
        total = 0
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "eventId = :e",
            "ExpressionAttributeValues": {":e": {"S": event_id}},
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        while True:
            page = self.dynamodb.query(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class CountResult(enum.Enum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    EVENT_MISSING = "event_missing"
    CONTENDED = "contended"


@dataclass(frozen=True)
class CountOutcome:
    result: CountResult
    count: int | None
    attempts: int


class Counter(Protocol):
    def count(self, event_id: str) -> int: ...


def refresh_participant_count(
    events: EventWrites,
    counter: Counter,
    event_id: str,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    backoff: Backoff = Backoff(),  # noqa: B008 - immutable
) -> CountOutcome:
    """Make ``participantCount`` of ``event_id`` equal a fresh count of its participants.

    The event is read once; after a lost race the failed write returns it as it is now."""
    item = events.get(event_id)
    for attempt in range(1, max_attempts + 1):
        if item is None:
            return CountOutcome(CountResult.EVENT_MISSING, None, attempt)
        fresh = counter.count(event_id)  # counted after the read whose countVersion guards the write
        if PARTICIPANT_COUNT in item and same_typed(item[PARTICIPANT_COUNT], fresh):
            return CountOutcome(CountResult.UNCHANGED, fresh, attempt)
        sent = events.conditional_set(
            event_id,
            {PARTICIPANT_COUNT: fresh, COUNT_VERSION: next_count_version(item)},
            {COUNT_VERSION: item.get(COUNT_VERSION, ABSENT)},
        )
        if sent.written:
            return CountOutcome(CountResult.UPDATED, fresh, attempt)
        item = sent.current
        if attempt < max_attempts:
            backoff.wait(attempt)
    return CountOutcome(CountResult.CONTENDED, None, max_attempts)
