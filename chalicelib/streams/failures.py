"""The failures table: records the stream handlers could not apply, for an operator to list.

One row per (item, stream record). Recording is idempotent: a retried batch that meets the same
poison record again finds the row already there and leaves it as it was. A row holds the item's
image, so it expires: ``expiresAt`` (epoch seconds, the table's TTL attribute) is set
``retention_days`` after it was recorded, and DynamoDB deletes it some time after that.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.expressions import conditional
from chalicelib.items import to_python, to_typed
from chalicelib.streams.records import StreamChange
from chalicelib.tables import FAILURES_TTL_ATTRIBUTE

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Failure:
    item_key: str  # "<declared table>#<key values joined by />": "orders#c1/o1", "order_items#o1/l1"
    record_id: str  # the stream record's SequenceNumber
    reasons: list[str]
    table: str
    event_name: str
    observed_at_ms: int | None
    image: dict[str, Any] | None = None  # typed DynamoDB JSON of the record's new image

    @classmethod
    def of(cls, change: StreamChange, *, item_key: str, reasons: list[str], table: str) -> Failure:
        """``change`` refused for ``reasons``: the record's identity, time and new image."""
        return cls(item_key=item_key, record_id=change.record_id, reasons=reasons, table=table,
                   event_name=change.event_name, observed_at_ms=change.observed_at_ms, image=change.typed_new_image)


def item_key(kind: str, *values: Any) -> str:
    """The failure row's name of an item: its declared table, then its key values."""
    return f"{kind}#" + "/".join(str(v) for v in values)


def source_item_key(table: str, key_names: Sequence[str], change: StreamChange) -> str:
    """The failure row's name of a source row: its key values from the new image, else the record's keys."""
    image = change.new_image or change.keys
    return item_key(table, *(image.get(name, change.keys.get(name)) for name in key_names))


def item_key_from_wire(kind: str, names: Sequence[str], keys: Any) -> str:
    """``kind#v1/v2`` from a record's wire-format Keys; keys of another shape are kept verbatim
    (``kind#{"Id": {"N": "101"}}``) so the row still names the item."""
    if isinstance(keys, Mapping):
        values = [keys.get(name) for name in names]
        if len(keys) == len(names) and all(isinstance(v, Mapping) and isinstance(v.get("S"), str) for v in values):
            return item_key(kind, *(v["S"] for v in values))  # type: ignore[index]
    return f"{kind}#" + json.dumps(keys, sort_keys=True, default=str)


DAY_S = 86_400


class FailureStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str, retention_days: int = 30) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.retention_days = retention_days

    def record(self, failure: Failure, *, now_ms: int | None = None) -> bool:
        """Write the row unless it exists. Returns True when it was new."""
        recorded_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        row: dict[str, Any] = {
            "itemKey": failure.item_key,
            "recordId": failure.record_id,
            "reasons": list(failure.reasons),
            "table": failure.table,
            "eventName": failure.event_name,
            "recordedAt": recorded_ms,
            FAILURES_TTL_ATTRIBUTE: recorded_ms // 1000 + self.retention_days * DAY_S,
        }
        if failure.observed_at_ms is not None:
            row["observedAt"] = failure.observed_at_ms
        if failure.image is not None:
            # A JSON string of the typed image, as Lambda's wire format has it (binary values in
            # base64): survives any attribute types, easy to replay.
            row["image"] = json.dumps(failure.image, sort_keys=True, default=_wire_value)
        return conditional(
            self.dynamodb.put_item,
            TableName=self.table_name,
            Item=to_typed(row),
            ConditionExpression="attribute_not_exists(itemKey)",  # recorded once per record
        )

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every recorded failure as plain values (``image`` parsed back to typed JSON)."""
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        while True:
            page = self.dynamodb.scan(**kwargs)
            for typed in page.get("Items", []):
                row = to_python(typed)
                for name in ("recordedAt", "observedAt", FAILURES_TTL_ATTRIBUTE):
                    if name in row:
                        row[name] = int(row[name])
                if isinstance(row.get("image"), str):
                    row["image"] = json.loads(row["image"])
                yield row
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _wire_value(value: Any) -> str:
    """Binary values (bytes from boto3's GetRecords) as base64 text, like Lambda delivers them."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot store {type(value).__name__} in a failure row's image")


def reasons_text(reasons: Sequence[str]) -> str:
    return "; ".join(reasons)
