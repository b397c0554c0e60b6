"""`backfill apply-mapping-settings` against moto's Lambda: the deployed mappings get the settings."""

import io
import json
import zipfile
from pathlib import Path

import boto3
from click.testing import CliRunner

from backfill.cli.main import cli
from backfill.live.model import function_names, handlers
from chalicelib.tables import stream_arn

CHALICE_DIR = Path(__file__).resolve().parents[3] / ".chalice"


def deployed_functions(dynamodb, settings, stage="dev"):
    """What `chalice deploy` leaves behind: per function a role with the stage's policy file
    inline, the function, and a DynamoDB stream mapping created with the function's ARN."""
    iam = boto3.client("iam", region_name=settings.region)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    lam = boto3.client("lambda", region_name=settings.region)
    tables = (settings.table("events"), settings.table("participants"))
    for handler, name, table in zip(handlers(), function_names(stage), tables, strict=True):
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
        policy = (CHALICE_DIR / f"policy-{stage}-{handler}.json").read_text()
        iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=policy)
        arn = lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                                  Code={"ZipFile": code.getvalue()}, Environment={"Variables": {"KEEP": "me", "PARTIAL_BATCH_RESPONSE": "false"}})["FunctionArn"]
        lam.create_event_source_mapping(FunctionName=arn, EventSourceArn=stream_arn(dynamodb, table), StartingPosition="TRIM_HORIZON", BatchSize=100)
    return lam


def test_settings_are_applied_to_both_mappings_and_functions(dynamodb, settings):
    lam = deployed_functions(dynamodb, settings)
    result = CliRunner().invoke(cli, ["apply-mapping-settings", "--stage", "dev", "--create-queue", "--max-retries", "4", "--yes", "--json"])
    assert result.exit_code == 0, result.output
    for name in function_names("dev"):
        arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
        [mapping] = lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True and mapping["MaximumRetryAttempts"] == 4
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(":dynamo-evolve-dev-stream-failures")
        variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        assert variables == {"KEEP": "me", "PARTIAL_BATCH_RESPONSE": "true"}


def test_refuses_without_a_terminal_and_without_yes(dynamodb, settings):
    deployed_functions(dynamodb, settings)
    result = CliRunner().invoke(cli, ["apply-mapping-settings", "--stage", "dev"])
    assert result.exit_code == 3


def test_a_stage_that_was_never_deployed_is_a_clear_error(dynamodb, settings):
    result = CliRunner().invoke(cli, ["apply-mapping-settings", "--stage", "prod", "--yes"])
    assert result.exit_code == 4 and "deploy first" in result.output


def test_a_missing_mapping_is_found_before_the_queue_is_created(dynamodb, settings):
    # given a deployed stage whose participants function lost its mapping
    lam = deployed_functions(dynamodb, settings)
    arn = lam.get_function_configuration(FunctionName=function_names("dev")[1])["FunctionArn"]
    [mapping] = lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    # when the settings are applied with a new queue
    result = CliRunner().invoke(cli, ["apply-mapping-settings", "--stage", "dev", "--create-queue", "--yes"])
    # then it stops, naming the function, and created no queue and changed no mapping
    assert result.exit_code == 4 and "participants_stream has no DynamoDB event source mapping" in result.output
    assert boto3.client("sqs", region_name=settings.region).list_queues().get("QueueUrls", []) == []
    assert_untouched(lam)


def test_sns_is_not_offered_as_the_failure_destination(dynamodb, settings):
    lam = deployed_functions(dynamodb, settings)
    topic = boto3.client("sns", region_name=settings.region).create_topic(Name="dynamo-evolve-dev-stream-failures")["TopicArn"]
    result = CliRunner().invoke(cli, ["apply-mapping-settings", "--stage", "dev", "--on-failure-arn", topic, "--yes"])
    assert result.exit_code == 2 and "is not an SQS queue ARN" in result.output
    assert_untouched(lam)


def test_a_queue_the_roles_may_not_send_to_is_refused_before_any_change(dynamodb, settings):
    # given an existing queue that is not the one the stage policy allows
    lam = deployed_functions(dynamodb, settings)
    sqs = boto3.client("sqs", region_name=settings.region)
    url = sqs.create_queue(QueueName="somewhere-else")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # when it is given as the destination
    result = CliRunner().invoke(cli, ["apply-mapping-settings", "--stage", "dev", "--on-failure-arn", queue, "--yes"])
    # then failed batches could not be delivered there: refused, nothing changed
    assert result.exit_code == 4 and "may not sqs:SendMessage" in result.output
    assert_untouched(lam)


def assert_untouched(lam):
    for name in function_names("dev"):
        arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
        for mapping in lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]:
            assert "FunctionResponseTypes" not in mapping or mapping["FunctionResponseTypes"] == []
            assert not mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        assert lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]["PARTIAL_BATCH_RESPONSE"] == "false"
