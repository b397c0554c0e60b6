"""The events handler never changes an attribute the migration does not own (generated events).

Each generated legacy event (typed JSON over DynamoDB's value space) is stored, then delivered as
an INSERT record in Lambda's wire format (binary as base64 text); after the handler upgraded it,
every attribute it does not own is exactly as stored.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings

from chalicelib.schema import CURRENT
from chalicelib.streams import process_target_batch
from chalicelib.streams.observability import UPGRADED
from tests.strategies import RELAXED, canonical_item, legacy_events
from tests.unit.streams.conftest import EVENTS_ARN, _wire

_sequence = itertools.count(1)


def insert_record(item):
    sequence = str(next(_sequence)).zfill(21)
    return {"Records": [{
        "eventID": f"{int(sequence):032x}", "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "eventSourceARN": EVENTS_ARN,
        "dynamodb": {"ApproximateCreationDateTime": 1700000100, "Keys": {"eventId": item["eventId"]},
                     "NewImage": {name: _wire(value) for name, value in item.items()},
                     "SequenceNumber": sequence, "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }]}


def unowned(item):
    return {name: value for name, value in canonical_item(item).items() if name not in CURRENT.owned}


@settings(max_examples=40, **RELAXED)
@given(legacy_events())
def test_upgrading_a_legacy_write_changes_no_attribute_it_does_not_own(dynamodb, settings, deps, item):
    # given a legacy event written by an old writer
    dynamodb.put_item(TableName=settings.table("events"), Item=item)
    # when its INSERT record is handled
    result = process_target_batch(insert_record(item), deps)
    # then it is upgraded and every attribute the migration does not own is exactly as written
    assert result.stats[UPGRADED] == 1 and result.failed_sequence_numbers == [], result.stats
    stored = dynamodb.get_item(TableName=settings.table("events"), Key={"eventId": item["eventId"]},
                               ConsistentRead=True)["Item"]
    assert unowned(stored) == unowned(item)
    dynamodb.delete_item(TableName=settings.table("events"), Key={"eventId": item["eventId"]})
