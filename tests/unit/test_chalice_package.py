"""`chalice package` builds a template with both stream mappings and the merged settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHALICE = [sys.executable, "-c", "from chalice.cli import main; main()"]


def package(out_dir: Path, stage: str, *extra: str) -> dict:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run(
        [*CHALICE, "package", "--stage", stage, *extra, str(out_dir)],
        cwd=PROJECT_DIR, env=env, check=True, capture_output=True, timeout=120,
    )
    return json.loads((out_dir / "sam.json").read_text())


def mapping(template: dict, function: str) -> dict:
    [source] = template["Resources"][function]["Properties"]["Events"].values()
    return source


@pytest.fixture(scope="module")
def merged(tmp_path_factory) -> dict:
    return package(tmp_path_factory.mktemp("merged"), "prod", "--merge-template", ".chalice/merge-template.json")


@pytest.mark.parametrize("function,table", [("EventsStream", "events"), ("ParticipantsStream", "participants")])
def test_both_mappings_carry_the_merged_settings(merged, function, table):
    source = mapping(merged, function)
    properties = source["Properties"]
    assert source["Type"] == "DynamoDB"
    assert f":table/{table}/stream/" in properties["Stream"]
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["MaximumRetryAttempts"] == 10
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}
    variables = merged["Resources"][function]["Properties"]["Environment"]["Variables"]
    assert variables["PARTIAL_BATCH_RESPONSE"] == "true" and variables["EVENTS_TABLE"] == "events"


def test_the_roles_may_touch_only_the_stage_tables_and_may_send_to_the_queue(merged):
    role = merged["Resources"]["EventsStreamRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    dynamodb_resources = {
        resource
        for statement in role["Statement"]
        if any(action.startswith("dynamodb:") for action in statement["Action"])
        for resource in ([statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"])
    }
    assert dynamodb_resources == {
        "arn:aws:dynamodb:*:*:table/events",
        "arn:aws:dynamodb:*:*:table/participants",
        "arn:aws:dynamodb:*:*:table/migration-failures",
        "arn:aws:dynamodb:*:*:table/events/stream/*",
        "arn:aws:dynamodb:*:*:table/participants/stream/*",
        "*",  # dynamodb:ListStreams only: it has no resource-level permissions
    }
    send = merged["Resources"]["StreamFailureQueueSendPolicy"]["Properties"]
    assert {"Ref": "EventsStreamRole"} in send["Roles"] and {"Ref": "ParticipantsStreamRole"} in send["Roles"]


def test_without_the_merge_template_failures_retry_whole_batches(tmp_path):
    # plain package/deploy: the mapping ignores partial responses, so the handlers must not rely on them
    template = package(tmp_path, "dev")
    properties = mapping(template, "EventsStream")["Properties"]
    assert "FunctionResponseTypes" not in properties and properties["StartingPosition"] == "TRIM_HORIZON"
    variables = template["Resources"]["EventsStream"]["Properties"]["Environment"]["Variables"]
    assert variables["PARTIAL_BATCH_RESPONSE"] == "false" and variables["EVENTS_TABLE"] == "dev-events"
