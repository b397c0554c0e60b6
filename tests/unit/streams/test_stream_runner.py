"""The runner's mapping semantics on in-process moto: retry from the first failure, then give up."""

import json
from decimal import Decimal

from backfill.live.stream_runner import PositionStore, StreamRunner, lambda_record
from chalicelib.items import to_typed
from chalicelib.streams.batch import BatchResult


class FakeTarget:
    def __init__(self, settings, dynamodb, streams):
        self.settings, self.dynamodb, self.streams = settings, dynamodb, streams


def legacy(event_id):
    return to_typed({"eventId": event_id, "name": "n", "status": "waiting", "createdAt": Decimal(1_700_000_000_000)})


def test_a_failing_record_is_retried_then_given_up_without_blocking_the_shard(dynamodb, streams, settings):
    # given three legacy events and a handler that always fails on the second one
    for event_id in ("a", "b", "c"):
        dynamodb.put_item(TableName=settings.table("events"), Item=legacy(event_id))
    runner = StreamRunner(FakeTarget(settings, dynamodb, streams), max_record_attempts=2)
    events_stream = next(s for s in runner.streams if s.table == settings.table("events"))
    seen = []

    def flaky(event, deps):
        failed = []
        for record in event["Records"]:
            seen.append(record["dynamodb"]["Keys"]["eventId"]["S"])
            if record["dynamodb"]["Keys"]["eventId"]["S"] == "b":
                failed.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return BatchResult({"batchItemFailures": failed})

    events_stream.handle = flaky
    # when the runner drains
    stats = runner.drain()
    # then the batch was re-read from "b" once, "b" was given up, and "c" was not blocked
    assert seen == ["a", "b", "c", "b", "c"]
    assert stats.retried == 1 and [g["table"] for g in stats.given_up] == [settings.table("events")]


def test_positions_survive_in_a_file_and_from_start_ignores_them(dynamodb, streams, settings, tmp_path):
    dynamodb.put_item(TableName=settings.table("events"), Item=legacy("a"))
    path = tmp_path / "positions.json"
    target = FakeTarget(settings, dynamodb, streams)
    first = StreamRunner(target, positions=PositionStore(path, endpoint="x")).drain()
    again = StreamRunner(target, positions=PositionStore(path, endpoint="x")).drain()
    other_endpoint = StreamRunner(target, positions=PositionStore(path, endpoint="y")).drain()
    restart = StreamRunner(target, positions=PositionStore(path, endpoint="x", from_start=True)).drain()
    assert first.outcomes[settings.table("events")]["upgraded"] == 1
    assert again.total_records() == 0
    assert other_endpoint.total_records() == restart.total_records() == first.total_records()
    assert restart.outcomes[settings.table("events")].get("upgraded", 0) == 0  # already current



def test_follow_keeps_polling_until_told_to_stop(dynamodb, streams, settings):
    # given a runner following an empty stream, and a write that lands while it follows
    runner = StreamRunner(FakeTarget(settings, dynamodb, streams))
    polls = []

    def should_stop():
        polls.append(1)
        if len(polls) == 2:
            dynamodb.put_item(TableName=settings.table("events"), Item=legacy("late"))
        return len(polls) > 3

    stats = runner.follow(interval=0, should_stop=should_stop)
    # then the late write was picked up on a later poll and the loop ended when asked
    assert stats.outcomes[settings.table("events")]["upgraded"] == 1 and stats.rounds == 3


def test_the_runner_hands_the_handlers_exactly_lambdas_json(dynamodb, streams, settings):
    # given an item with binary values written to a table with a stream
    item = {**legacy("bin"), "logo": {"B": b"\x89PNG"}, "thumbs": {"BS": [b"\x00", b"\xff"]},
            "nested": {"M": {"photo": {"B": b"\xde\xad"}}}}
    dynamodb.put_item(TableName=settings.table("events"), Item=item)
    arn = dynamodb.describe_table(TableName=settings.table("events"))["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    [raw] = streams.get_records(ShardIterator=iterator)["Records"]
    # when the runner turns the GetRecords record into a Lambda record
    record = lambda_record(raw, source_arn=arn, region="us-east-1")
    # then it is plain JSON in Lambda's documented shape: base64 binary, epoch-second times
    assert json.loads(json.dumps(record)) == record
    image = record["dynamodb"]["NewImage"]
    assert image["logo"] == {"B": "iVBORw=="} and sorted(image["thumbs"]["BS"]) == ["/w==", "AA=="]
    assert image["nested"] == {"M": {"photo": {"B": "3q0="}}}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int | float)
    assert abs(record["dynamodb"]["ApproximateCreationDateTime"] - raw["dynamodb"]["ApproximateCreationDateTime"].timestamp()) < 1
    assert set(record) == {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "eventSourceARN", "dynamodb"}


def test_dynamodb_locals_empty_maps_reach_the_handlers_as_aws_spells_them():
    # given a record as boto3 parses DynamoDB Local's GetRecords answer (captured from it): an empty
    # map is {} at the top level, in a map and in a list; an empty list is {"L": []} as on AWS
    image = {"eventId": {"S": "e1"}, "m": {}, "nm": {"M": {"x": {}, "y": {"L": []}}},
             "ll": {"L": [{}, {"L": []}, {"S": ""}]}, "b": {"B": b""}}
    raw = {"eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
           "awsRegion": "ddblocal", "dynamodb": {"Keys": {"eventId": {"S": "e1"}}, "NewImage": image,
                                                 "OldImage": {"eventId": {"S": "e1"}, "z": {}},
                                                 "SequenceNumber": "1", "SizeBytes": 9}}
    # when the runner turns it into a Lambda record
    record = lambda_record(raw, source_arn="arn", region="us-east-1")
    # then every empty map is {"M": {}}, and nothing else changed
    assert record["dynamodb"]["NewImage"] == {
        "eventId": {"S": "e1"}, "m": {"M": {}}, "nm": {"M": {"x": {"M": {}}, "y": {"L": []}}},
        "ll": {"L": [{"M": {}}, {"L": []}, {"S": ""}]}, "b": {"B": ""}}
    assert record["dynamodb"]["OldImage"] == {"eventId": {"S": "e1"}, "z": {"M": {}}}
