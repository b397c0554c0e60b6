"""app.py wiring: Chalice's test client invokes the two stream handlers with Lambda events."""

import importlib
from decimal import Decimal
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.items import to_typed
from chalicelib.streams import BatchRetry, dependencies
from chalicelib.streams.dependencies import Dependencies
from tests.unit.streams.conftest import (
    EVENTS_ARN,
    PARTICIPANTS_ARN,
    batch,
    event_record,
    participant_record,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]


@pytest.fixture
def chalice_app(monkeypatch, dynamodb, settings):
    monkeypatch.setenv("EVENTS_STREAM_ARN", EVENTS_ARN)
    monkeypatch.setenv("PARTICIPANTS_STREAM_ARN", PARTICIPANTS_ARN)
    app_module = importlib.import_module("app")
    dependencies.override(Dependencies(settings, dynamodb))
    yield app_module.app
    dependencies.override(None)


def test_stream_handlers_are_registered_on_the_configured_streams(chalice_app):
    sources = {config.name: config.stream_arn for config in chalice_app.event_sources}
    assert sources == {"events_stream": EVENTS_ARN, "participants_stream": PARTICIPANTS_ARN}


def test_chalice_invokes_both_handlers(chalice_app, dynamodb, settings):
    # given a legacy event and one participant
    legacy = {"eventId": "e1", "name": "Quiz", "status": "active", "createdAt": Decimal(5)}
    dynamodb.put_item(TableName=settings.events_table, Item=to_typed(legacy))
    dynamodb.put_item(TableName=settings.participants_table, Item=to_typed({"eventId": "e1", "participantId": "p"}))
    with Client(chalice_app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        # when Lambda delivers the two streams' records
        events_reply = client.lambda_.invoke("events_stream", batch(event_record("INSERT", new=legacy)))
        joins_reply = client.lambda_.invoke("participants_stream", batch(participant_record("INSERT", "e1", "p")))
    # then both answer with an empty partial-batch response and the event is upgraded and counted
    assert events_reply.payload == {"batchItemFailures": []}
    assert joins_reply.payload == {"batchItemFailures": []}
    stored = dynamodb.get_item(TableName=settings.events_table, Key={"eventId": {"S": "e1"}})["Item"]
    assert stored["status"] == {"S": "live"} and stored["participantCount"] == {"N": "1"}


def test_without_partial_responses_a_failed_record_retries_the_whole_batch(chalice_app, monkeypatch, dynamodb, settings):
    # given a mapping without ReportBatchItemFailures and a record whose event cannot be read
    monkeypatch.setenv("PARTIAL_BATCH_RESPONSE", "false")
    monkeypatch.setattr(dynamodb, "query", lambda **_: (_ for _ in ()).throw(RuntimeError("network down")))
    dynamodb.put_item(TableName=settings.events_table, Item=to_typed({"eventId": "e1", "name": "Q", "status": "waiting", "createdAt": Decimal(5)}))
    # then the handler raises, so Lambda retries the batch instead of dropping the record
    with pytest.raises(BatchRetry):
        chalice_app.handler_map["participants_stream"](batch(participant_record("INSERT", "e1", "p")), None)


def test_with_partial_responses_a_failed_record_is_reported(chalice_app, monkeypatch, dynamodb, settings):
    monkeypatch.setenv("PARTIAL_BATCH_RESPONSE", "true")
    monkeypatch.setattr(dynamodb, "query", lambda **_: (_ for _ in ()).throw(RuntimeError("network down")))
    dynamodb.put_item(TableName=settings.events_table, Item=to_typed({"eventId": "e1", "name": "Q", "status": "waiting", "createdAt": Decimal(5)}))
    record = participant_record("INSERT", "e1", "p")
    reply = chalice_app.handler_map["participants_stream"](batch(record), None)
    assert reply == {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
