"""Reading one raw DynamoDB Streams record of a Lambda event (the JSON Lambda delivers).

Lambda's wire format differs from what boto3's GetRecords returns: binary values (``B``, ``BS``,
also nested in ``M``/``L``) are base64 text, and ApproximateCreationDateTime is epoch seconds.
The local runner (``backfill streams``) converts GetRecords records to this same format, so the
handlers only ever see one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.items import to_python
from chalicelib.streams.errors import PermanentFailure

# The stream record's own id, in AWS's record format (Lambda's DynamoDB event): a fact of the
# event format, not of any declaration (a record names its item under dynamodb.Keys).
RECORD_ID = "eventID"


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
    typed_new_image: dict[str, Any] | None  # as delivered (wire JSON), for lossless failure rows

    @property
    def record_id(self) -> str:
        return self.sequence_number


def epoch_ms(approximate_creation: Any) -> int | None:
    """Lambda gives epoch seconds (int, or float with sub-second precision); we store ms."""
    if approximate_creation is None:
        return None
    return int((Decimal(str(approximate_creation)) * 1000).to_integral_value())


def record_id(raw: Mapping[str, Any]) -> str:
    """The record's SequenceNumber (what a batch item failure names), else its ``RECORD_ID``."""
    body = raw.get("dynamodb")
    if isinstance(body, Mapping) and "SequenceNumber" in body:
        return str(body["SequenceNumber"])
    return str(raw.get(RECORD_ID))


def _from_base64(text: Any, where: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"{where}: binary value is not base64 text: {text!r}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: binary value is not valid base64: {text!r}") from None


def _decode_binary(typed: Any, where: str) -> Any:
    """One wire-format typed value with its binary parts as bytes (boto3's typed form)."""
    if not isinstance(typed, Mapping) or len(typed) != 1:
        raise ValueError(f"{where}: not a DynamoDB typed value: {typed!r}")
    [(tag, value)] = typed.items()
    if tag == "B":
        return {"B": _from_base64(value, where)}
    if tag == "BS":
        return {"BS": [_from_base64(v, where) for v in value]}
    if tag == "M":
        return {"M": {k: _decode_binary(v, f"{where}.{k}") for k, v in value.items()}}
    if tag == "L":
        return {"L": [_decode_binary(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    return dict(typed)


def decode_image(wire: Mapping[str, Any], label: str) -> dict[str, Any]:
    """A wire-format image as plain Python values. Raises ValueError naming the attribute."""
    typed = {name: _decode_binary(value, f"{label}.{name}") for name, value in wire.items()}
    try:
        return to_python(typed)
    except Exception as error:  # boto3's deserializer: TypeError, decimal errors, ...
        raise ValueError(f"{label}: {type(error).__name__}: {error}") from None


def parse_record(raw: Mapping[str, Any]) -> StreamChange:
    """A ``StreamChange`` from one Lambda record. Raises PermanentFailure when it cannot be read."""
    body = raw.get("dynamodb")
    if not isinstance(body, Mapping) or "SequenceNumber" not in body:
        raise PermanentFailure([f"not a DynamoDB stream record (no dynamodb.SequenceNumber): {raw.get(RECORD_ID)!r}"])
    new_wire, old_wire = body.get("NewImage"), body.get("OldImage")
    try:
        keys = decode_image(body.get("Keys") or {}, "Keys")
        new_image = decode_image(new_wire, "NewImage") if new_wire is not None else None
        old_image = decode_image(old_wire, "OldImage") if old_wire is not None else None
        observed = epoch_ms(body.get("ApproximateCreationDateTime"))
    except (ValueError, ArithmeticError, AttributeError) as error:
        raise PermanentFailure([f"undecodable record: {error}"]) from None
    return StreamChange(
        event_name=str(raw.get("eventName")),
        keys=keys,
        new_image=new_image,
        old_image=old_image,
        sequence_number=str(body["SequenceNumber"]),
        observed_at_ms=observed,
        source_arn=raw.get("eventSourceARN"),
        typed_new_image=dict(new_wire) if new_wire is not None else None,
    )


def require_keys(change: StreamChange, names: Sequence[str], table: str) -> None:
    """Raise PermanentFailure unless the record's keys are exactly this table's (string) keys."""
    if set(change.keys) == set(names) and all(isinstance(change.keys[n], str) and change.keys[n] for n in names):
        return
    raise PermanentFailure(
        [f"keys {json.dumps(change.keys, sort_keys=True, default=str)} are not {table}'s key "
         f"({', '.join(names)}, strings): a record of another table?"]
    )
