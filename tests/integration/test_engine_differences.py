"""Where the engines disagree, the code follows AWS's documented behaviour; these pin both sides.

Each test states what AWS documents, what each engine does (moto is not DynamoDB), and checks
that the project's result is the same whichever engine answered. On an external URL the engine is
unknown, so only the project's result is checked.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from backfill.live.stream_runner import GET_RECORDS_LIMIT, StreamRunner
from backfill.table.request_counter import RequestCounter
from backfill.table.target import Target
from chalicelib.config import Settings
from chalicelib.item_store import ItemStore
from chalicelib.items import to_typed
from chalicelib.tables import create_tables, stream_arn
from localdev.endpoint import DYNAMODB_LOCAL, LOCALSTACK, MOTO, Endpoint


def _records(streams: Any, dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, oldest first (as GetRecords returns them)."""
    arn = stream_arn(dynamodb, table)
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
            if not page["Records"]:
                break
            records += page["Records"]
            iterator = page.get("NextShardIterator")
    return records


def _legacy(event_id: str, status: str, created_ms: int) -> dict[str, Any]:
    return to_typed({"eventId": event_id, "name": "x", "status": status, "createdAt": Decimal(created_ms)})


# AWS: "If you perform a PutItem or UpdateItem operation that does not change any data in an
# item, DynamoDB Streams does not write a stream record for that operation." moto writes one.
# LocalStack's DynamoDB and streams are DynamoDB Local's.
RECORDS_FOR_A_WRITE_AND_ITS_REPEAT = {MOTO: 2, DYNAMODB_LOCAL: 1, LOCALSTACK: 1}


def test_a_write_that_changes_nothing_changes_nothing_on_either_engine(
    endpoint: Endpoint, dynamodb: Any, streams: Any, live_settings: Settings
) -> None:
    # given a participant row, and the live path drained (the event upgraded and counted)
    table = live_settings.table("participants")
    dynamodb.put_item(TableName=live_settings.table("events"), Item=_legacy("e1", "active", 1_600_000_000_000))
    row = to_typed({"eventId": "e1", "participantId": "p1"})
    dynamodb.put_item(TableName=table, Item=row)
    runner = StreamRunner(Target(settings=live_settings))
    runner.drain()
    before = ItemStore(dynamodb, live_settings.table("events")).get("e1")
    # when the old app writes the same row again, unchanged
    dynamodb.put_item(TableName=table, Item=row)
    # then the engines differ in what the stream shows
    if endpoint.name in RECORDS_FOR_A_WRITE_AND_ITS_REPEAT:
        assert len(_records(streams, dynamodb, table)) == RECORDS_FOR_A_WRITE_AND_ITS_REPEAT[endpoint.name]
    # and the live path ends in the same place on both: nothing written, the event as it was
    with RequestCounter().attach(runner.dynamodb) as requests:
        runner.drain()
    assert "UpdateItem" not in requests.calls() and "PutItem" not in requests.calls()
    assert ItemStore(dynamodb, live_settings.table("events")).get("e1") == before
    assert before["participantCount"] == 1


def test_get_records_takes_at_most_1000_records_a_call(
    endpoint: Endpoint, dynamodb: Any, streams: Any, live_settings: Settings
) -> None:
    # AWS documents Limit's maximum as 1000; DynamoDB Local refuses more, moto accepts any.
    dynamodb.put_item(TableName=live_settings.table("events"), Item=_legacy("e1", "waiting", 1_600_000_000_000))
    arn = stream_arn(dynamodb, live_settings.table("events"))
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    if endpoint.name in (DYNAMODB_LOCAL, LOCALSTACK):
        with pytest.raises(ClientError, match="ValidationException"):
            streams.get_records(ShardIterator=iterator, Limit=1001)
    elif endpoint.name == MOTO:
        assert streams.get_records(ShardIterator=iterator, Limit=1001)["Records"]
    # the runner asks for no more than that, and reads the record on every engine
    assert GET_RECORDS_LIMIT == 1000
    assert StreamRunner(Target(settings=live_settings)).drain().records[live_settings.table("events")] >= 1


# AWS: ApproximateCreationDateTime is rounded down to the second; DynamoDB Local cuts it to the
# minute; moto keeps milliseconds.
MAX_EARLY_S = {MOTO: 0.001, DYNAMODB_LOCAL: 60.0, LOCALSTACK: 60.0}


def test_stream_times_may_be_a_minute_early_and_dates_derived_from_them_stay_ordered(
    endpoint: Endpoint, dynamodb: Any, streams: Any, live_settings: Settings
) -> None:
    # given a legacy event created "now", written to the table
    now_ms = int(time.time() * 1000)
    dynamodb.put_item(TableName=live_settings.table("events"), Item=_legacy("e1", "completed", now_ms))
    written_at = time.time()
    # then its stream record's time is at most a minute (engine-dependent) before the write
    [record] = _records(streams, dynamodb, live_settings.table("events"))
    early_s = now_ms / 1000 - record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
    assert early_s < MAX_EARLY_S.get(endpoint.name, 60.0) and early_s > now_ms / 1000 - written_at - 1
    # and when the live path upgrades it, the dates it derives never precede createdAt
    StreamRunner(Target(settings=live_settings)).drain()
    item = ItemStore(dynamodb, live_settings.table("events")).get("e1")
    assert item["createdAt"] <= item["startedAt"] <= item["completedAt"] and item["lastModified"] >= item["createdAt"]
    assert item["completedAt"] - item["createdAt"] < 61_000


# AWS documents an empty map as {"M": {}} in a stream record's images, as everywhere else;
# DynamoDB Local's GetRecords spells it {} (a value with no type), at the top level and nested in a
# map or a list; moto spells it as AWS does. An empty list ({"L": []}), an empty string and an
# empty binary are spelled as AWS does by both.
EMPTY_SHAPES: dict[str, Any] = {
    "settings": {"M": {}},
    "layout": {"M": {"inner": {"M": {}}, "rows": {"L": []}, "cells": {"L": [{"M": {}}, {"L": []}, {"S": ""}]}}},
    "history": {"L": []},
    "blank": {"S": ""},
    "nothing": {"B": b""},
    "logo": {"B": b"\x00\xff"},
    "marks": {"BS": [b"\x01", b"\x02"]},
    "scores": {"NS": ["1", "2.5"]},
    "unset": {"NULL": True},
}


def test_rows_holding_empty_maps_settle_on_every_engine(dynamodb: Any, live_settings: Settings) -> None:
    # given a legacy event holding empty maps (top level and nested) among other empty and binary values
    table = live_settings.table("events")
    dynamodb.put_item(TableName=table, Item={**_legacy("e1", "waiting", 1_600_000_000_000), **EMPTY_SHAPES})
    # when the local stream runner feeds its record to the live path
    stats = StreamRunner(Target(settings=live_settings)).drain()
    # then the record is upgraded, not rejected, and the values that are not the migration's are as written
    outcomes = stats.outcomes[table]
    assert outcomes["upgraded"] == 1 and not outcomes["rejected"] and not stats.given_up, stats.as_dict()
    item = dynamodb.get_item(TableName=table, Key={"eventId": {"S": "e1"}}, ConsistentRead=True)["Item"]
    assert item["schemaVersion"] == {"N": "2"} and item["status"] == {"S": "setup"}
    assert {name: item[name] for name in EMPTY_SHAPES} == EMPTY_SHAPES
    assert not dynamodb.scan(TableName=live_settings.failures_table)["Items"]


# AWS: a new table has no TTL and no point-in-time recovery. LocalStack 4.8.1 keeps both by table
# name after the table is deleted, so the endpoint's reset turns them off before it drops the tables.
def test_a_table_created_after_the_reset_starts_without_ttl_or_pitr(
    endpoint: Endpoint, dynamodb: Any, live_settings: Settings
) -> None:
    # given the events table with TTL on, and PITR on where the engine has it (not DynamoDB Local)
    table = live_settings.table("events")
    dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    has_pitr = endpoint.name != DYNAMODB_LOCAL
    if has_pitr:
        dynamodb.update_continuous_backups(TableName=table,
                                           PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    # when the endpoint is reset and the table created again
    endpoint.reset()
    create_tables(dynamodb, live_settings)
    # then the new table has neither, as on AWS
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED", ttl
    if has_pitr:
        pitr = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED", pitr
