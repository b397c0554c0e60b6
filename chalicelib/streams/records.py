"""Reading one raw DynamoDB Streams record of a Lambda event (the dict Lambda delivers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.items import to_python


@dataclass(frozen=True)
class StreamChange:
    """What a handler needs from a record: plain Python images (boto3 types, Decimal numbers)."""

    event_name: str  # INSERT, MODIFY or REMOVE
    keys: dict[str, Any]
    new_image: dict[str, Any] | None
    old_image: dict[str, Any] | None
    sequence_number: str
    observed_at_ms: int | None  # ApproximateCreationDateTime in ms since epoch
    source_arn: str | None
    typed_new_image: dict[str, Any] | None  # kept typed for lossless failure rows

    @property
    def record_id(self) -> str:
        return self.sequence_number


def epoch_ms(approximate_creation: Any) -> int | None:
    """Lambda gives epoch seconds (int, or float with sub-second precision); we store ms."""
    if approximate_creation is None:
        return None
    return int((Decimal(str(approximate_creation)) * 1000).to_integral_value())


def parse_record(raw: Mapping[str, Any]) -> StreamChange:
    """A ``StreamChange`` from one Lambda record dict. Raises ValueError when it is not one."""
    body = raw.get("dynamodb")
    if not isinstance(body, Mapping) or "SequenceNumber" not in body:
        raise ValueError(f"not a DynamoDB stream record (no dynamodb.SequenceNumber): {raw.get('eventID')!r}")
    new_typed = body.get("NewImage")
    old_typed = body.get("OldImage")
    return StreamChange(
        event_name=str(raw.get("eventName")),
        keys=to_python(body.get("Keys") or {}),
        new_image=to_python(new_typed) if new_typed is not None else None,
        old_image=to_python(old_typed) if old_typed is not None else None,
        sequence_number=str(body["SequenceNumber"]),
        observed_at_ms=epoch_ms(body.get("ApproximateCreationDateTime")),
        source_arn=raw.get("eventSourceARN"),
        typed_new_image=dict(new_typed) if new_typed is not None else None,
    )


def lambda_record(stream_record: Mapping[str, Any], *, source_arn: str, region: str) -> dict[str, Any]:
    """The record Lambda would deliver for one GetRecords record (as boto3 returns it).

    GetRecords (boto3) gives ApproximateCreationDateTime as a datetime and, on moto, no
    eventSourceARN; Lambda gives epoch seconds and always the stream ARN.
    """
    body = dict(stream_record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = created.timestamp()
    body.setdefault("SizeBytes", 0)
    body.setdefault("StreamViewType", "NEW_AND_OLD_IMAGES")
    return {
        "eventID": stream_record.get("eventID", body["SequenceNumber"]),
        "eventName": stream_record["eventName"],
        "eventVersion": stream_record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_record.get("awsRegion") or region,
        "eventSourceARN": stream_record.get("eventSourceARN") or source_arn,
        "dynamodb": body,
    }


def lambda_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
