"""Recorded failures expire: the failures table has TTL on ``expiresAt`` after init-tables (also one
created earlier without it), and every row carries ``expiresAt`` = recorded + the stage's retention
days. Read back with raw boto3 calls."""

from __future__ import annotations

import time
from typing import Any

import boto3
from click.testing import CliRunner

from backfill.cli.main import cli
from chalicelib.config import Settings
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.failures import Failure
from chalicelib.tables import table_definitions

DAY_S = 86_400


def ttl(dynamodb: Any, table: str) -> dict[str, Any]:
    return dict(dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"])


def init_tables(endpoint_url: str) -> None:
    result = CliRunner().invoke(cli, ["init-tables", "--endpoint-url", endpoint_url, "--region", "us-east-1"])
    assert result.exit_code == 0, result.output


def test_init_tables_enables_ttl_on_the_failures_table_also_one_made_without_it(endpoint_url):
    # given a failures table created earlier without TTL
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint_url)
    [definition] = [d for d in table_definitions(Settings()) if d["TableName"] == Settings().failures_table]
    dynamodb.create_table(**definition)
    assert ttl(dynamodb, definition["TableName"])["TimeToLiveStatus"] == "DISABLED"
    # when init-tables runs (twice: the second finds TTL on and leaves it)
    init_tables(endpoint_url)
    init_tables(endpoint_url)
    # then the failures table's TTL is on, on expiresAt
    assert ttl(dynamodb, definition["TableName"]) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_a_recorded_failure_expires_after_the_stages_retention_days(dynamodb, live_settings):
    # given the Lambda's settings from a stage environment keeping failures 7 days
    settings = Settings.from_env({"EVENTS_TABLE": live_settings.table("events"),
                                  "PARTICIPANTS_TABLE": live_settings.table("participants"),
                                  "FAILURES_TABLE": live_settings.failures_table,
                                  "FAILURE_RETENTION_DAYS": "7"})
    store = Dependencies(settings, dynamodb).failures
    # when a failure is recorded
    before = int(time.time())
    store.record(Failure(item_key="events#e1", record_id="1", reasons=["bad"], table="events",
                         event_name="INSERT", observed_at_ms=None))
    after = int(time.time())
    # then its row carries expiresAt (a number, epoch seconds) 7 days after it was recorded
    item = dynamodb.get_item(TableName=live_settings.failures_table,
                             Key={"itemKey": {"S": "events#e1"}, "recordId": {"S": "1"}})["Item"]
    expires = int(item["expiresAt"]["N"])
    assert before + 7 * DAY_S <= expires <= after + 7 * DAY_S
    assert expires == int(item["recordedAt"]["N"]) // 1000 + 7 * DAY_S
