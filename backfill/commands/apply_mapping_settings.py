"""``backfill apply-mapping-settings``: what `chalice deploy` cannot set on the stream mappings.

Chalice's ``on_dynamodb_record`` has no way to ask for partial batch responses, bisection on
error, a retry limit or an on-failure destination. This command sets them with boto3 on the
deployed event source mappings of both handlers, then tells the functions (env
PARTIAL_BATCH_RESPONSE=true) that their returned batch item failures are now honoured. The
order matters: a function that reports partial failures to a mapping that ignores them would
drop those records, so the mapping is updated first. (`chalice package` users get the same
settings from .chalice/merge-template.json instead.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import click
from botocore.exceptions import ClientError

from backfill.console import confirm_or_refuse, err, key_value_table, print_json
from backfill.options import json_option, target_options, yes_option
from backfill.target import Target
from chalicelib.aws import client
from chalicelib.streams.batch import PARTIAL_RESPONSE_ENV

APP_NAME = "dynamo-evolve"
HANDLERS = ("events_stream", "participants_stream")


@dataclass(frozen=True)
class MappingSettings:
    maximum_retry_attempts: int = 10
    maximum_record_age_seconds: int = 86400
    bisect_on_error: bool = True
    on_failure_arn: str | None = None

    def update_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": self.bisect_on_error,
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "MaximumRecordAgeInSeconds": self.maximum_record_age_seconds,
        }
        if self.on_failure_arn:
            arguments["DestinationConfig"] = {"OnFailure": {"Destination": self.on_failure_arn}}
        return arguments


def function_names(stage: str, app_name: str = APP_NAME) -> list[str]:
    """The Lambda names chalice gives the two handlers: <app>-<stage>-<handler>."""
    return [f"{app_name}-{stage}-{handler}" for handler in HANDLERS]


def failure_queue_name(stage: str, app_name: str = APP_NAME) -> str:
    """Matches the sqs:SendMessage statement of .chalice/policy-<stage>.json."""
    return f"{app_name}-{stage}-stream-failures"


def dynamodb_mappings(lambda_client: Any, function_name: str) -> list[dict[str, Any]]:
    paginator = lambda_client.get_paginator("list_event_source_mappings")
    return [
        mapping
        for page in paginator.paginate(FunctionName=function_name)
        for mapping in page["EventSourceMappings"]
        if ":dynamodb:" in mapping.get("EventSourceArn", "")
    ]


def apply_to_function(lambda_client: Any, function_name: str, settings: MappingSettings) -> list[str]:
    """Update every DynamoDB mapping of ``function_name``, then enable partial responses.

    Returns the UUIDs updated. Raises click.ClickException when the function has no mapping.
    """
    try:
        mappings = dynamodb_mappings(lambda_client, function_name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        mappings = []
    if not mappings:
        raise click.ClickException(f"{function_name} has no DynamoDB event source mapping: deploy first (`chalice deploy --stage ...`)")
    for mapping in mappings:
        lambda_client.update_event_source_mapping(UUID=mapping["UUID"], **settings.update_arguments())
    for mapping in mappings:
        _wait_until_settled(lambda_client, mapping["UUID"])
    configuration = lambda_client.get_function_configuration(FunctionName=function_name)
    variables = dict(configuration.get("Environment", {}).get("Variables", {}))
    if variables.get(PARTIAL_RESPONSE_ENV) != "true":
        variables[PARTIAL_RESPONSE_ENV] = "true"
        lambda_client.update_function_configuration(FunctionName=function_name, Environment={"Variables": variables})
    return [mapping["UUID"] for mapping in mappings]


def _wait_until_settled(lambda_client: Any, uuid: str, *, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while lambda_client.get_event_source_mapping(UUID=uuid).get("State") in ("Updating", "Creating", "Enabling"):
        if time.monotonic() > deadline:
            raise click.ClickException(f"event source mapping {uuid} is still updating after {timeout_s:.0f}s")
        time.sleep(2)


@click.command("apply-mapping-settings")
@click.option("--stage", default="dev", show_default=True, help="Chalice stage the app was deployed to.")
@click.option("--app-name", default=APP_NAME, show_default=True, help="Chalice app name (function names are <app>-<stage>-<handler>).")
@click.option("--max-retries", default=10, show_default=True, type=click.IntRange(0, 10000), help="MaximumRetryAttempts per batch.")
@click.option("--max-record-age", default=86400, show_default=True, type=click.IntRange(60, 604800), help="MaximumRecordAgeInSeconds.")
@click.option("--no-bisect", is_flag=True, help="Do not split a failing batch in two.")
@click.option("--on-failure-arn", help="SQS queue or SNS topic ARN for records that exhaust their retries.")
@click.option("--create-queue", is_flag=True, help="Create the SQS queue <app>-<stage>-stream-failures and use it as the on-failure destination.")
@yes_option
@json_option
@target_options
def command(target: Target, stage: str, app_name: str, max_retries: int, max_record_age: int, no_bisect: bool, on_failure_arn: str | None, create_queue: bool, yes: bool, as_json: bool) -> None:
    """Enable batch item failures, bisect, a retry limit and an on-failure destination on the
    deployed stream mappings (for `chalice deploy` users; `chalice package` uses the merge template)."""
    if create_queue and on_failure_arn:
        raise click.UsageError("give either --on-failure-arn or --create-queue, not both")
    names = function_names(stage, app_name)
    lambda_client = client(target.session, "lambda", target.settings)
    plan = {
        "functions": ", ".join(names),
        "region": target.settings.region,
        "endpoint": lambda_client.meta.endpoint_url,
        "batch item failures": "ReportBatchItemFailures",
        "bisect on error": not no_bisect,
        "max retries": max_retries,
        "max record age (s)": max_record_age,
        "on failure": on_failure_arn or (f"new SQS queue {failure_queue_name(stage, app_name)}" if create_queue else "(none)"),
    }
    err.print(key_value_table("event source mapping settings", plan))
    confirm_or_refuse("Update these deployed event source mappings?", yes=yes)
    if create_queue:
        sqs = client(target.session, "sqs", target.settings)
        url = sqs.create_queue(QueueName=failure_queue_name(stage, app_name), Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
        on_failure_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    settings = MappingSettings(max_retries, max_record_age, not no_bisect, on_failure_arn)
    updated = {name: apply_to_function(lambda_client, name, settings) for name in names}
    if as_json:
        print_json({"updated": updated, "settings": settings.update_arguments()})
    else:
        for name, uuids in updated.items():
            err.print(f"[green]updated[/] {name}: {', '.join(uuids)}; {PARTIAL_RESPONSE_ENV}=true")
