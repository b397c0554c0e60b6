"""The seed's algorithm, for comparison: what the project replaced.

Sequential scan of the events table; for each event one Query to count its participants and
one whole-item PutItem of the upgraded event (no condition, so it can overwrite live writes).
On moto server a Query reads the whole participants table, so this is bounded by time or event
count and compared by per-event rate. The time spent in each operation is kept so the results
can say how much of it is moto's inflated Query cost.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from chalicelib.aws import client
from chalicelib.config import Settings
from chalicelib.items import to_python, to_typed
from chalicelib.schema import UpgradeRefused, needs_upgrade, upgrade_item


def count_by_query(dynamodb: Any, table: str, event_id: str) -> int:
    total = 0
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "eventId = :e",
        "ExpressionAttributeValues": {":e": {"S": event_id}},
        "Select": "COUNT",
    }
    while True:
        page = dynamodb.query(**kwargs)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run_baseline(
    session: Any, settings: Settings, *, max_seconds: float, max_events: int | None = None
) -> tuple[int, dict[str, Any]]:
    """Migrate events the seed's way until ``max_seconds`` or ``max_events``; returns (events, notes).

    Every event visited counts (upgraded, refused or already current), as in the other runs.
    """
    dynamodb = client(session, "dynamodb", settings)
    spent: dict[str, float] = defaultdict(float)
    deadline = time.perf_counter() + max_seconds
    visited = refused = 0
    kwargs: dict[str, Any] = {"TableName": settings.table("events")}
    while True:
        started = time.perf_counter()
        page = dynamodb.scan(**kwargs)
        spent["Scan"] += time.perf_counter() - started
        for typed in page.get("Items", []):
            item = to_python(typed)
            visited += 1
            if needs_upgrade(item):
                started = time.perf_counter()
                count = count_by_query(dynamodb, settings.table("participants"), item["eventId"])
                spent["Query"] += time.perf_counter() - started
                try:
                    upgraded = upgrade_item(item, aggregates={"participantCount": count})
                except UpgradeRefused:
                    refused += 1
                else:
                    started = time.perf_counter()
                    dynamodb.put_item(TableName=settings.table("events"), Item=to_typed(upgraded))
                    spent["PutItem"] += time.perf_counter() - started
            out_of_time = time.perf_counter() >= deadline
            if out_of_time or (max_events is not None and visited >= max_events):
                return visited, {"seconds_in": dict(spent), "refused": refused, "complete": False}
        if "LastEvaluatedKey" not in page:
            return visited, {"seconds_in": dict(spent), "refused": refused, "complete": True}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
