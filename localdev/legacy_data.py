"""Realistic legacy (v1) data for tests, the demo, benchmarks and LocalStack users.

Deterministic for a given seed: old-shape events in every status with extra attributes of every
DynamoDB type, participants spread unevenly (a few crowded events, many small or empty ones),
and optionally malformed rows the upgrade rule must refuse.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import Binary

from chalicelib.items import to_typed

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import WriteRequestOutputTypeDef, WriteRequestTypeDef

LEGACY_STATUSES = ("waiting", "active", "completed")
BASE_TIME_MS = 1_700_000_000_000


@dataclass(frozen=True)
class LegacyDataSet:
    events: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    malformed_ids: list[str]

    def participant_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.participants:
            counts[row["eventId"]] = counts.get(row["eventId"], 0) + 1
        return counts


def legacy_event(rng: random.Random, number: int) -> dict[str, Any]:
    created = BASE_TIME_MS + rng.randrange(0, 90 * 24 * 3600 * 1000)
    event: dict[str, Any] = {
        "eventId": f"evt-{number:06d}",
        "name": rng.choice(["Quiz night", "Büro-Umfrage", "Town hall", "ライブ Q&A", "Retro"]) + f" #{number}",
        "status": rng.choice(LEGACY_STATUSES),
        "createdAt": Decimal(created),
        "organizerId": f"org-{rng.randrange(50):03d}",
    }
    extras = rng.randrange(6)
    if extras == 0:
        event["tags"] = {rng.choice(["a", "b", "c"]), "demo"}
    elif extras == 1:
        event["settings"] = {"theme": "dark", "limits": {"max": Decimal(rng.randrange(1, 500))}, "flags": [True, None, "x"]}
    elif extras == 2:
        event["logo"] = Binary(bytes(rng.randrange(256) for _ in range(16)))
    elif extras == 3:
        event["scores"] = {Decimal("1.5"), Decimal(rng.randrange(1000)), Decimal("12345678901234567890.123456789")}
    elif extras == 4:
        event["budget"] = Decimal("99999999999999999999999999999999999999")
    return event


MALFORMED = (
    lambda e: {**e, "status": "archived"},
    lambda e: {k: v for k, v in e.items() if k != "createdAt"},
    lambda e: {**e, "createdAt": "yesterday"},
    lambda e: {**e, "createdAt": Decimal("1700000000000.5")},
    lambda e: {**e, "name": Decimal(42)},
    lambda e: {**e, "status": Decimal(1)},
)


def generate(
    *, events: int, participants: int, malformed: int = 0, seed: int = 7
) -> LegacyDataSet:
    """``events`` legacy events (of which ``malformed`` are broken) and ``participants`` rows."""
    rng = random.Random(seed)
    rows = [legacy_event(rng, n) for n in range(events)]
    malformed_ids: list[str] = []
    for index in rng.sample(range(events), min(malformed, events)):
        rows[index] = MALFORMED[len(malformed_ids) % len(MALFORMED)](rows[index])
        malformed_ids.append(rows[index]["eventId"])
    # Uneven spread: a few hot events take a large share; about a third get nobody.
    hot = [r["eventId"] for r in rng.sample(rows, max(1, events // 50))] if rows else []
    warm = [r["eventId"] for r in rows[: max(1, (2 * events) // 3)]]
    people = []
    for n in range(participants if rows else 0):
        event_id = rng.choice(hot) if rng.random() < 0.3 else rng.choice(warm)
        people.append(
            {"eventId": event_id, "participantId": f"p-{n:07d}", "displayName": f"Guest {n}",
             "joinedAt": Decimal(BASE_TIME_MS + n)}
        )
    return LegacyDataSet(rows, people, malformed_ids)


def batches(items: list[dict[str, Any]], size: int = 25) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load(dynamodb: DynamoDBClient, table: str, items: list[dict[str, Any]]) -> None:
    """BatchWriteItem ``items`` into ``table``, resending unprocessed items until all land."""
    for chunk in batches(items):
        requests: Mapping[str, Sequence[WriteRequestTypeDef | WriteRequestOutputTypeDef]] = {
            table: [{"PutRequest": {"Item": to_typed(item)}} for item in chunk]}
        while requests:
            response = dynamodb.batch_write_item(RequestItems=requests)
            requests = response.get("UnprocessedItems") or {}


def seed_tables(dynamodb: DynamoDBClient, events_table: str, participants_table: str, data: LegacyDataSet) -> None:
    load(dynamodb, events_table, data.events)
    load(dynamodb, participants_table, data.participants)
