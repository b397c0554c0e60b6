"""Events stream handler on records holding numbers at DynamoDB's limits, in Lambda's format.

The records are written by hand in the typed JSON Lambda delivers (not with the project's own
serializer); the handler must upgrade or refuse them like any other, losing nothing.
"""

from __future__ import annotations

from typing import Any

from chalicelib.streams import process_target_batch
from chalicelib.streams.failures import FailureStore
from chalicelib.streams.observability import REFUSED, UPGRADED
from tests.strategies import EXTREME_NUMBERS

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026-01-01T00:00:00.000"
ODD = {
    **{f"n{index}": {"N": text} for index, text in enumerate(EXTREME_NUMBERS)},
    "ns": {"NS": ["1E-130", "9.9999999999999999999999999999999999999E+125", "0.0000001"]},
    "m": {"M": {"l": {"L": [{"N": "-1E-130"}, {"S": ""}]}}},
}


def lambda_event(image: dict[str, Any], sequence: str) -> dict[str, Any]:
    return {"Records": [{
        "eventID": "c4ca4238a0b923820dcc509a6f75849b", "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "eventSourceARN": ARN,
        "dynamodb": {"ApproximateCreationDateTime": 1700000100, "Keys": {"eventId": image["eventId"]},
                     "NewImage": image, "SequenceNumber": sequence, "SizeBytes": 512,
                     "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }]}


def test_legacy_write_with_extreme_numbers_is_upgraded_and_they_are_kept_as_sent(dynamodb, settings, deps):
    # given a legacy event holding numbers at DynamoDB's limits, written by an old writer
    image = {"eventId": {"S": "e1"}, "name": {"S": "Quiz"}, "status": {"S": "waiting"},
             "createdAt": {"N": "1700000000000"}, **ODD}
    dynamodb.put_item(TableName=settings.table("events"), Item=image)
    # when its INSERT record is handled
    result = process_target_batch(lambda_event(image, "111"), deps)
    # then it is upgraded and every attribute the migration does not own is exactly as sent
    assert result.stats[UPGRADED] == 1 and result.failed_sequence_numbers == []
    stored = dynamodb.get_item(TableName=settings.table("events"), Key={"eventId": {"S": "e1"}})["Item"]
    assert {name: stored[name] for name in image} == {**image, "status": {"S": "setup"}}


def test_refused_write_with_extreme_numbers_is_stored_exactly_in_the_failures_table(dynamodb, settings, deps):
    # given a legacy event the rule refuses (unknown status), holding numbers at the limits
    image = {"eventId": {"S": "bad"}, "name": {"S": "Quiz"}, "status": {"S": "archived"},
             "createdAt": {"N": "1700000000000"}, **ODD}
    dynamodb.put_item(TableName=settings.table("events"), Item=image)
    # when its record is handled
    result = process_target_batch(lambda_event(image, "222"), deps)
    # then it is refused, recorded with its image exactly as delivered, the row left untouched
    assert result.stats[REFUSED] == 1 and result.failed_sequence_numbers == []
    [failure] = list(FailureStore(dynamodb, settings.failures_table).scan())
    assert failure["image"] == image
    assert dynamodb.get_item(TableName=settings.table("events"), Key={"eventId": {"S": "bad"}})["Item"] == image
