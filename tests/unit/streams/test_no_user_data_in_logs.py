"""The Lambda logs keys and reasons, never the values of an item: a marker planted in every
attribute of refused, undecodable and failing records never appears in what the handler logs
(every field of every log record powertools would print), while the item's key does."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from chalicelib.items import to_typed
from chalicelib.streams import process_target_batch
from chalicelib.streams.observability import REFUSED
from tests.unit.streams.conftest import batch, event_record

MARKER = "MARKER-7f3a9c-private"


def put(dynamodb, settings, item):
    dynamodb.put_item(TableName=settings.table("events"), Item=to_typed(item))


@pytest.fixture
def logs(caplog):
    """Every attribute of every log record at INFO and above (the Lambda's level; prod: WARNING):
    message, arguments, the structured fields powertools prints, an exception's text."""
    caplog.set_level(logging.INFO)

    def read() -> str:
        return "\n".join(str(record.__dict__) for record in caplog.records)

    return read


def test_a_refused_record_is_logged_by_key_and_reason_without_its_values(dynamodb, settings, deps, logs):
    # given legacy events whose bad values carry the marker (a status, a timestamp, a version, a note)
    items = [
        {"eventId": "bad-status", "name": MARKER, "status": MARKER, "createdAt": Decimal(1_600_000_000_000)},
        {"eventId": "bad-time", "name": "x", "status": "waiting", "createdAt": MARKER, "note": MARKER},
        {"eventId": "bad-version", "name": "x", "status": "waiting", "createdAt": Decimal(1), "schemaVersion": MARKER},
    ]
    for item in items:
        put(dynamodb, settings, item)
    # when their records are handled
    result = process_target_batch(batch(*(event_record("INSERT", new=i) for i in items)), deps)
    assert result.stats[REFUSED] == 3
    # then the logs name each item and why, but hold no value of it
    text = logs()
    assert "bad-status" in text and "bad-time" in text and "bad-version" in text
    assert "status" in text and "createdAt" in text
    assert MARKER not in text


def test_an_unexpected_error_quoting_a_value_is_logged_by_type_and_place_without_it(dynamodb, settings, deps, logs,
                                                                                  monkeypatch):
    # given a bug met on an item's data: an error whose message quotes the item's value
    item = {"eventId": "e1", "name": MARKER, "status": "waiting", "createdAt": Decimal(1_600_000_000_000)}
    put(dynamodb, settings, item)

    def broken(*args, **kwargs):
        raise KeyError(MARKER)

    monkeypatch.setattr("chalicelib.streams.target.upgrade_in_place", broken)
    # when its record is handled
    process_target_batch(batch(event_record("INSERT", new=item)), deps)
    # then the log says which error and where, and holds no value
    text = logs()
    assert "KeyError" in text and "target.py" in text
    assert MARKER not in text
