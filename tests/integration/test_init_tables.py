"""`backfill init-tables` on an empty endpoint: every table ACTIVE, both streams ENABLED."""

from __future__ import annotations

from typing import Any

import boto3
from click.testing import CliRunner

from backfill.cli.main import cli
from chalicelib.tables import stream_arn


def test_init_tables_returns_with_tables_active_and_streams_enabled(endpoint_url: str) -> None:
    # given an empty endpoint; when init-tables runs
    result = CliRunner().invoke(cli, ["init-tables", "--endpoint-url", endpoint_url, "--region", "us-east-1"])
    # then it created the three tables, all ACTIVE, with the two streams ENABLED
    assert result.exit_code == 0, result.output
    dynamodb: Any = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint_url)
    streams: Any = boto3.client("dynamodbstreams", region_name="us-east-1", endpoint_url=endpoint_url)
    tables = {name: dynamodb.describe_table(TableName=name)["Table"] for name in dynamodb.list_tables()["TableNames"]}
    assert sorted(tables) == ["events", "migration-failures", "participants"]
    assert {table["TableStatus"] for table in tables.values()} == {"ACTIVE"}
    for name in ("events", "participants"):
        status = streams.describe_stream(StreamArn=stream_arn(dynamodb, name))["StreamDescription"]["StreamStatus"]
        assert status == "ENABLED", name
    # and a second run creates nothing and says so
    again = CliRunner().invoke(cli, ["init-tables", "--endpoint-url", endpoint_url, "--region", "us-east-1"])
    assert again.exit_code == 0 and "nothing" in again.output
