"""Each function's policy file grants exactly the table actions its handler's code calls.

The handlers run on in-process moto over batches that take every code path that reaches a
table (upgrade with a count, refused record, recount, participant of a missing event); every
DynamoDB call is recorded with its table and compared with the stage's policy file.
"""

import json
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from chalicelib.items import to_typed
from chalicelib.streams import process_source_batch, process_target_batch
from tests.unit.streams.conftest import batch, event_record, participant_record

CHALICE_DIR = Path(__file__).resolve().parents[3] / ".chalice"
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:PutItem",
                 "dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem",
                 "dynamodb:DescribeTable")


@pytest.fixture
def calls(dynamodb):
    seen: set[tuple[str, str]] = set()

    def record(params, model, **_):
        seen.add((f"dynamodb:{model.name}", params.get("TableName", "?")))

    dynamodb.meta.events.register("before-parameter-build.dynamodb", record, unique_id="policy-test")
    yield seen
    dynamodb.meta.events.unregister("before-parameter-build.dynamodb", unique_id="policy-test")


def table_grants(handler: str) -> set[tuple[str, str]]:
    """(action, table) pairs of the prod policy (its tables are the unit tests' table names)."""
    document = json.loads((CHALICE_DIR / f"policy-prod-{handler}.json").read_text())
    tables = ("events", "participants", "migration-failures")
    granted = set()
    for statement in document["Statement"]:
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            for action in TABLE_ACTIONS:
                for table in tables:
                    if any(fnmatchcase(action, a) for a in statement["Action"]) and fnmatchcase(f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}", resource):
                        granted.add((action, table))
    return granted


def test_the_events_function_policy_is_exactly_what_its_handler_calls(dynamodb, settings, deps, calls):
    # given an old-shape event with a participant, a malformed one the rule refuses, and one
    # changed again since its record (so the conditional write fails and it is re-read)
    legacy = {"eventId": "e1", "name": "Quiz", "status": "active", "createdAt": Decimal(1_700_000_000_005)}
    broken = {"eventId": "e2", "name": "Broken", "status": "exploded", "createdAt": Decimal(1_700_000_000_005)}
    stale = {"eventId": "e3", "name": "Moved on", "status": "waiting", "createdAt": Decimal(1_700_000_000_005)}
    for item in (legacy, broken, {**stale, "status": "active"}):
        dynamodb.put_item(TableName=settings.table("events"), Item=to_typed(item))
    dynamodb.put_item(TableName=settings.table("participants"), Item=to_typed({"eventId": "e1", "participantId": "p"}))
    calls.clear()
    # when the events handler gets their records
    records = [event_record("INSERT", new=item) for item in (legacy, broken, stale)]
    result = process_target_batch(batch(*records), deps)
    # then it upgraded two, refused one, and called only what the policy grants, all of it
    assert result.stats["upgraded"] == 2 and result.stats["refused"] == 1
    assert calls == table_grants("events_stream")


def test_the_participants_function_policy_is_exactly_what_its_handler_calls(dynamodb, settings, deps, calls):
    # given an event, and a participant of an event that does not exist
    dynamodb.put_item(TableName=settings.table("events"), Item=to_typed({"eventId": "e1", "name": "Quiz", "status": "live", "createdAt": Decimal(1_700_000_000_005)}))
    for event_id in ("e1", "ghost"):
        dynamodb.put_item(TableName=settings.table("participants"), Item=to_typed({"eventId": event_id, "participantId": "p"}))
    calls.clear()
    # when the participants handler gets both joins
    result = process_source_batch(batch(participant_record("INSERT", "e1", "p"), participant_record("INSERT", "ghost", "p")), deps)
    # then it recounted e1, reported the ghost, and called only what the policy grants, all of it
    assert result.stats["applied"] == 1 and result.stats["reported"] == 1
    assert calls == table_grants("participants_stream")
