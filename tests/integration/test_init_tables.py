"""`backfill init-tables` on an empty endpoint: every table ACTIVE, both streams ENABLED."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from click.testing import CliRunner

from backfill.cli.main import cli
from chalicelib.aws import LOCALSTACK_CREDENTIALS
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


def test_init_tables_creates_the_membership_mirror_a_declaration_names(endpoint_url: str) -> None:
    # given the events declaration with participantCount kept by a mirror, its table renamed
    args = ["--schema", "chalicelib.schema.mirrored:EVENTS", "init-tables", "--endpoint-url", endpoint_url,
            "--region", "us-east-1", "--table", "participant_members=dev-members"]
    # when init-tables runs
    result = CliRunner().invoke(cli, args)
    # then the mirror exists under its actual name with the declared key, and has no stream
    assert result.exit_code == 0, result.output
    dynamodb: Any = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint_url)
    assert sorted(dynamodb.list_tables()["TableNames"]) == ["dev-members", "events", "migration-failures", "participants"]
    mirror = dynamodb.describe_table(TableName="dev-members")["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in mirror["KeySchema"]] == [("eventId", "HASH"), ("participantId", "RANGE")]
    assert not mirror.get("StreamSpecification", {}).get("StreamEnabled", False)


@pytest.mark.parametrize("how", ["--endpoint-url", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "LOCALSTACK_HOST"])
def test_localstack_reaches_the_endpoint_it_is_given_on_any_port(endpoint_url: str, how: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # given an endpoint on a free port (not LocalStack's 4566), named the way `how` says: the option,
    # boto3's endpoint variables, or localstack-client's LOCALSTACK_HOST=host:port
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "LOCALSTACK_HOST", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)
    args = ["init-tables", "--localstack", "--region", "us-east-1"]
    if how == "--endpoint-url":
        args += ["--endpoint-url", endpoint_url]
    elif how == "LOCALSTACK_HOST":
        monkeypatch.setenv(how, urlsplit(endpoint_url).netloc)
    else:
        monkeypatch.setenv(how, endpoint_url)
    # when a command runs with --localstack
    result = CliRunner().invoke(cli, args)
    # then its tables are at that endpoint, made with LocalStack's placeholder keys (DynamoDB Local
    # keeps each access key's tables apart)
    assert result.exit_code == 0, result.output
    dynamodb: Any = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint_url,
                                 **LOCALSTACK_CREDENTIALS)
    assert sorted(dynamodb.list_tables()["TableNames"]) == ["events", "migration-failures", "participants"]
