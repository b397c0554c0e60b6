"""Stream events for the handler tests, and handler dependencies on in-process moto.

Events come in Lambda's documented JSON format, never from the code under test: hand-written
files in tests/events/ (``stream_event``), or records assembled here field by field for the
older scenario tests (``record``: boto3's TypeSerializer, binary values as base64 text).
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from backfill.table.request_counter import RequestCounter
from chalicelib.config import Settings
from chalicelib.streams.dependencies import Dependencies

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
_sequence = itertools.count(1000)

EVENTS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026-01-01T00:00:00.000"
PARTICIPANTS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/participants/stream/2026-01-01T00:00:00.000"


def load_event(name: str) -> dict[str, Any]:
    """A hand-written Lambda event from tests/events/<name>.json."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def stream_event() -> Callable[[str], dict[str, Any]]:
    return load_event


def _wire(typed: Any) -> Any:
    """boto3's typed value in Lambda's JSON: binary as base64 text."""
    if isinstance(typed, dict):
        return {k: _wire(v) for k, v in typed.items()}
    if isinstance(typed, list):
        return [_wire(v) for v in typed]
    if isinstance(typed, (bytes, bytearray)):
        return base64.b64encode(bytes(typed)).decode("ascii")
    return typed


def wire_image(item: Mapping[str, Any]) -> dict[str, Any]:
    serializer = TypeSerializer()
    return {name: _wire(serializer.serialize(value)) for name, value in item.items()}


def _boto_typed(wire: Any) -> Any:
    """Lambda's typed JSON back to boto3's typed form (binary as bytes), to seed a table."""
    [(tag, value)] = wire.items()
    if tag == "B":
        return {"B": base64.b64decode(value)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in value]}
    if tag == "M":
        return {"M": {k: _boto_typed(v) for k, v in value.items()}}
    if tag == "L":
        return {"L": [_boto_typed(v) for v in value]}
    return wire


def stored_item(wire: Mapping[str, Any]) -> dict[str, Any]:
    """A record's image as a PutItem Item (what the table held when the record was made)."""
    return {name: _boto_typed(value) for name, value in wire.items()}


def plain(wire: Mapping[str, Any]) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in stored_item(wire).items()}


def record(
    event_name: str,
    keys: Mapping[str, Any],
    *,
    new: Mapping[str, Any] | None = None,
    old: Mapping[str, Any] | None = None,
    at_s: float = 1_700_000_000,
    arn: str = EVENTS_ARN,
    sequence_number: str | None = None,
) -> dict[str, Any]:
    """One record in Lambda's documented format (typed images, epoch seconds)."""
    sequence = sequence_number or str(next(_sequence)).zfill(21)
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": at_s,
        "Keys": wire_image(keys),
        "SequenceNumber": sequence,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = wire_image(new)
    if old is not None:
        body["OldImage"] = wire_image(old)
    return {
        "eventID": f"{int(sequence):032x}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": arn,
    }


def event_record(event_name: str, new: Mapping[str, Any] | None = None, old: Mapping[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    keys = {"eventId": (new or old)["eventId"]}
    return record(event_name, keys, new=new, old=old, arn=EVENTS_ARN, **kw)


def participant_record(event_name: str, event_id: str, participant_id: str, **kw: Any) -> dict[str, Any]:
    keys = {"eventId": event_id, "participantId": participant_id}
    image = {**keys, "name": f"person {participant_id}"}
    new = image if event_name != "REMOVE" else None
    old = image if event_name != "INSERT" else None
    return record(event_name, keys, new=new, old=old, arn=PARTICIPANTS_ARN, **kw)


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [copy.deepcopy(r) for r in records]}


class FakeLambdaContext:
    """The attributes of Lambda's context object that powertools reads."""

    function_name = "dynamo-evolve-dev-events_stream"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:dynamo-evolve-dev-events_stream"
    memory_limit_in_mb = 512
    aws_request_id = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name = "/aws/lambda/dynamo-evolve-dev-events_stream"
    log_stream_name = "2026/01/01/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def deps(dynamodb: Any, settings: Settings) -> Dependencies:
    return Dependencies(settings, dynamodb)


@pytest.fixture
def requests(dynamodb: Any) -> RequestCounter:
    counter = RequestCounter().attach(dynamodb)
    yield counter
    counter.detach()
