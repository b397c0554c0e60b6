"""Lambda-shaped stream events built by hand, and handler dependencies on in-process moto."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from backfill.request_counter import RequestCounter
from chalicelib.config import Settings
from chalicelib.items import to_typed
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.records import lambda_event, lambda_record

_sequence = itertools.count(1000)

EVENTS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026-01-01T00:00:00.000"
PARTICIPANTS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/participants/stream/2026-01-01T00:00:00.000"


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
    """One Lambda record, as Lambda delivers it (typed images, epoch seconds)."""
    body: dict[str, Any] = {
        "Keys": to_typed(keys),
        "SequenceNumber": sequence_number or str(next(_sequence)).zfill(21),
        "ApproximateCreationDateTime": at_s,
    }
    if new is not None:
        body["NewImage"] = to_typed(new)
    if old is not None:
        body["OldImage"] = to_typed(old)
    return lambda_record({"eventName": event_name, "dynamodb": body}, source_arn=arn, region="us-east-1")


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
    return lambda_event(list(records))


@pytest.fixture
def deps(dynamodb: Any, settings: Settings) -> Dependencies:
    return Dependencies(settings, dynamodb)


@pytest.fixture
def requests(dynamodb: Any) -> RequestCounter:
    counter = RequestCounter().attach(dynamodb)
    yield counter
    counter.detach()
