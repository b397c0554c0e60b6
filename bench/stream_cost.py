"""Stream path cost per record as an event grows: 10, 1,000 and 20,000 participants.

Each batch is ``records_per_batch`` joins of one event, handed to the real participants handler.
The handler recounts a touched event once per batch with a consistent ``Query(Select=COUNT)``,
which reads every participant row of the event, so its cost grows with the event's size. Two
figures per record:

- *reported*: the ConsumedCapacity the endpoint returns (ReturnConsumedCapacity=TOTAL is added
  to every request by a botocore hook, the handler's code is unchanged). moto reports fixed
  placeholder values, so on moto only AWS's figure below is meaningful;
- *by DynamoDB's rules*: the capacity AWS would charge, computed from the rows' sizes with
  ``backfill.migrate.estimate`` (its arithmetic is unit-tested against the documented examples).
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from backfill.live.stream_runner import lambda_event, lambda_record
from backfill.table.units import item_size, read_units, scan_pages, update_units
from bench.harness import Stopwatch
from chalicelib.aws import client
from chalicelib.config import Settings
from chalicelib.items import to_typed
from chalicelib.streams import process_source_batch
from chalicelib.streams.dependencies import Dependencies
from localdev.legacy_data import load

PARTICIPANTS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/participants/stream/bench-sizes"
SIZES = (10, 1000, 20000)


def participant(event_id: str, number: int) -> dict[str, Any]:
    return {"eventId": event_id, "participantId": f"p-{number:07d}", "displayName": f"Guest {number}",
            "joinedAt": Decimal(1_706_000_000_000 + number)}


def event(event_id: str) -> dict[str, Any]:
    return {"eventId": event_id, "name": f"Event with {event_id}", "status": "live", "createdAt": Decimal(1_706_000_000_000),
            "visibility": "private", "isTemplate": False, "lastModified": Decimal(1_706_000_000_000),
            "startedAt": Decimal(1_706_000_000_000), "schemaVersion": Decimal(2)}


def seed(dynamodb: Any, settings: Settings, sizes: tuple[int, ...]) -> dict[str, list[int]]:
    """One current event per size with that many participants; returns eventId -> row sizes."""
    rows: dict[str, list[int]] = {}
    numbers = itertools.count()
    for size in sizes:
        event_id = f"size-{size}"
        load(dynamodb, settings.table("events"), [event(event_id)])
        people = [participant(event_id, next(numbers)) for _ in range(size)]
        for start in range(0, len(people), 500):
            load(dynamodb, settings.table("participants"), people[start:start + 500])
        rows[event_id] = [item_size(to_typed(p)) for p in people]
    return rows


class CapacityHook:
    """Adds ReturnConsumedCapacity=TOTAL to every request and sums what comes back (a
    transaction reports one entry per table)."""

    OPERATIONS = ("Query", "GetItem", "UpdateItem", "PutItem", "Scan", "DeleteItem", "TransactWriteItems")

    def __init__(self, dynamodb: Any) -> None:
        self.units: dict[str, float] = defaultdict(float)
        for op in self.OPERATIONS:
            dynamodb.meta.events.register(f"provide-client-params.dynamodb.{op}", self._ask)
            dynamodb.meta.events.register(f"after-call.dynamodb.{op}", self._collect)

    @staticmethod
    def _ask(params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _collect(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity") or {}
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.units[model.name] += float(entry.get("CapacityUnits", 0.0))


def run_stream_cost(
    session: Any, watch: Stopwatch, settings: Settings, *, size: int, batches: int, records_per_batch: int,
    row_sizes: list[int], next_number: itertools.count,  # type: ignore[type-arg]
) -> tuple[int, dict[str, Any]]:
    """``batches`` batches of joins to the event with ``size`` participants; returns (records, notes)."""
    event_id = f"size-{size}"
    deps = Dependencies(settings, client(session, "dynamodb", settings))
    hook = CapacityHook(deps.dynamodb)
    app = client(session, "dynamodb", settings)  # the application's own writes (not measured)
    records = 0
    rules_read = rules_write = 0.0
    sequence = itertools.count(10**20)
    for _ in range(batches):
        with watch.paused():
            batch = []
            for _ in range(records_per_batch):
                row = to_typed(participant(event_id, next(next_number)))
                app.put_item(TableName=settings.table("participants"), Item=row)
                row_sizes.append(item_size(row))
                body = {"Keys": {"eventId": row["eventId"], "participantId": row["participantId"]}, "NewImage": row,
                        "SequenceNumber": str(next(sequence)), "ApproximateCreationDateTime": time.time()}
                batch.append(lambda_record({"eventID": body["SequenceNumber"], "eventName": "INSERT", "dynamodb": body},
                                           source_arn=PARTICIPANTS_ARN, region=settings.region))
        result = process_source_batch(lambda_event(batch), deps)
        records += len(batch)
        # What AWS charges for the recount: a consistent GetItem of the event, a consistent COUNT
        # query over every row (per 1 MB page), a conditional UpdateItem of about the event's size.
        event_bytes = 400  # a current event is a few hundred bytes: well within one 4 KB / 1 KB unit
        rules_read += read_units(event_bytes, consistent=True)
        rules_read += sum(read_units(page, consistent=True) for page in scan_pages(row_sizes))
        rules_write += update_units(event_bytes, event_bytes)
        assert not result.failed_sequence_numbers, result.failed_sequence_numbers
    return records, {
        "participants": size,
        "batches": batches,
        "records_per_batch": records_per_batch,
        "reported_units": dict(hook.units),
        "rules_read_units": rules_read,
        "rules_write_units": rules_write,
        "row_bytes_mean": round(sum(row_sizes) / len(row_sizes), 1),
    }
