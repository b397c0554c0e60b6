"""``init-tables`` names the declaration whose tables it creates, and asks before creating them
anywhere but on this machine (in-process moto answers at AWS's own endpoint URL)."""

from __future__ import annotations

from typing import Any

import boto3
from click.testing import CliRunner

from backfill.cli.main import cli
from backfill.errors import ExitCode


def table_names(region: str) -> list[str]:
    client: Any = boto3.client("dynamodb", region_name=region)
    return sorted(client.list_tables()["TableNames"])


def test_on_aws_it_lists_what_it_would_create_and_refuses_without_yes(aws):
    # given AWS's endpoint (moto in-process) and no terminal to answer on
    result = CliRunner().invoke(cli, ["init-tables", "--region", "us-east-1"])
    # then it names the declaration and the tables, refuses (exit 3) and creates nothing
    said = " ".join(result.output.split())  # rich wraps at the runner's 80 columns
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert "declaration chalicelib.schema.current:CURRENT: tables to create at https://dynamodb.us-east-1.amazonaws.com" in said
    assert "events, participants, migration-failures" in said
    assert table_names("us-east-1") == []


def test_on_aws_yes_creates_the_declarations_tables(aws):
    # when the operator has read the list and passes --yes
    result = CliRunner().invoke(cli, ["init-tables", "--region", "us-east-1", "--yes"])
    # then the tables exist
    assert result.exit_code == 0, result.output
    assert table_names("us-east-1") == ["events", "migration-failures", "participants"]
