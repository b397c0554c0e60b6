"""Table definitions, from the declaration: used by init-tables, tests, the demo and LocalStack users."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from botocore.waiter import WaiterModel, create_waiter_with_client

from chalicelib.config import Settings
from chalicelib.schema import Schema, active_schema

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient

logger = logging.getLogger(__name__)

STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
FAILURES_TTL_ATTRIBUTE = "expiresAt"  # epoch seconds: when DynamoDB may delete a failure row

# boto3 has no waiter for a stream; this one polls DescribeStream the way its own waiters poll.
_STREAM_WAITERS = WaiterModel({"version": 2, "waiters": {"StreamEnabled": {
    "operation": "DescribeStream", "delay": 1, "maxAttempts": 60,
    "acceptors": [
        {"matcher": "path", "argument": "StreamDescription.StreamStatus", "expected": "ENABLED", "state": "success"},
        {"matcher": "path", "argument": "StreamDescription.StreamStatus", "expected": "DISABLED", "state": "failure"},
    ],
}}})


def table_definitions(settings: Settings, schema: Schema | None = None) -> list[dict[str, Any]]:
    """CreateTable arguments for every table the declaration names (its own, then each
    aggregate's source, all with a stream: the live path reads them; then each membership mirror,
    without one), and the failures table."""
    schema = schema or active_schema()
    return [
        *(
            {"TableName": settings.table(declared), **key.definitions(), "BillingMode": "PAY_PER_REQUEST",
             "StreamSpecification": STREAM}
            for declared, key in schema.table_keys.items()
        ),
        *(
            {"TableName": settings.table(declared), **key.definitions(), "BillingMode": "PAY_PER_REQUEST"}
            for declared, key in schema.mirror_keys.items()
        ),
        {
            # Records the stream handlers could not apply: one row per (item, stream record).
            "TableName": settings.failures_table,
            "KeySchema": [
                {"AttributeName": "itemKey", "KeyType": "HASH"},
                {"AttributeName": "recordId", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "itemKey", "AttributeType": "S"},
                {"AttributeName": "recordId", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    ]


def create_tables(dynamodb: DynamoDBClient, settings: Settings, streams: DynamoDBStreamsClient | None = None) -> list[str]:
    """Create the missing tables and wait until they are active (and, given a ``dynamodbstreams``
    client, their streams enabled: LocalStack drops writes made while a stream is still enabling).
    Returns the names created."""
    missing = missing_tables(dynamodb, settings)
    created = []
    for definition in table_definitions(settings):
        name = definition["TableName"]
        if name not in missing:
            logger.info("table %s exists", name)
            continue
        dynamodb.create_table(**definition)
        created.append(name)
    for name in created:
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    enable_failure_expiry(dynamodb, settings.failures_table)
    if streams is not None:
        for definition in table_definitions(settings):
            if definition["TableName"] in created and "StreamSpecification" in definition:
                wait_for_stream(streams, stream_arn(dynamodb, definition["TableName"]))
    return created


def missing_tables(dynamodb: DynamoDBClient, settings: Settings) -> list[str]:
    """The tables of ``table_definitions`` that do not exist yet at the client's endpoint."""
    existing = set(dynamodb.get_paginator("list_tables").paginate().build_full_result()["TableNames"])
    return [definition["TableName"] for definition in table_definitions(settings) if definition["TableName"] not in existing]


def enable_failure_expiry(dynamodb: DynamoDBClient, table: str) -> None:
    """Turn on the failures table's TTL on ``expiresAt`` (rows hold item images), unless it is on."""
    status = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if status.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and status.get("AttributeName") == FAILURES_TTL_ATTRIBUTE:
        return
    dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": FAILURES_TTL_ATTRIBUTE})
    logger.info("table %s: TTL enabled on %s", table, FAILURES_TTL_ATTRIBUTE)


def wait_for_stream(streams: DynamoDBStreamsClient, arn: str) -> None:
    """Block until the stream ``arn`` is ENABLED (botocore's WaiterError when it never is)."""
    create_waiter_with_client("StreamEnabled", _STREAM_WAITERS, streams).wait(StreamArn=arn)


def stream_arn(dynamodb: DynamoDBClient, table_name: str) -> str:
    return dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
