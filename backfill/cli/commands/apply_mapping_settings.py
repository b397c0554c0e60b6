"""``backfill apply-mapping-settings``: what `chalice deploy` cannot set on the stream mappings.

Chalice's ``on_dynamodb_record`` has no way to ask for partial batch responses, bisection on
error, a retry limit or an on-failure destination. This command sets them with boto3 on the
deployed event source mappings of both handlers, then tells the functions (env
PARTIAL_BATCH_RESPONSE=true) that their returned batch item failures are now honoured. The
order matters: a function that reports partial failures to a mapping that ignores them would
drop those records, so the mapping is updated first. (`chalice package` users get the same
settings from .chalice/merge-template.json instead.)

Everything is checked before anything is created or changed: both functions deployed with a
stream mapping, the destination an SQS queue that exists (or is to be created) and that both
functions' roles may send to (Lambda sends a failed batch's record with the function's role).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import click
from botocore.exceptions import BotoCoreError, ClientError

from backfill.cli.options import command_line, json_option, target_options, yes_option
from backfill.console import confirm_or_refuse, err, key_value_table, print_json
from backfill.errors import BadInput, TargetError
from backfill.live.lambda_api import DeployedFunction, deployed_function
from backfill.live.model import APP_NAME, failure_queue_name, function_names
from backfill.live.policy import allows
from backfill.table.target import Target
from chalicelib.streams.batch import PARTIAL_RESPONSE_ENV

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_iam import IAMClient
    from types_boto3_lambda import LambdaClient

__all__ = ["command", "function_names", "failure_queue_name", "MappingSettings"]


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


def queue_arn(function_arn: str, queue_name: str) -> str:
    """The ARN a queue of this name gets in the function's region and account."""
    _, partition, _, region, account, *_ = function_arn.split(":")
    return f"arn:{partition}:sqs:{region}:{account}:{queue_name}"


def role_policies(iam: IAMClient, role_arn: str) -> list[Mapping[str, Any]]:
    """The role's inline policy documents (chalice puts the stage's policy file inline; attached
    managed policies are not read, so a grant only there is refused rather than assumed)."""
    role_name = role_arn.rsplit("/", 1)[-1]
    documents: list[Mapping[str, Any]] = []  # botocore decodes the URL-quoted JSON; a string left over is decoded here
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for policy_name in page["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
            documents.append(json.loads(unquote(document)) if isinstance(document, str) else document)
    return documents


def check_functions(functions: list[DeployedFunction]) -> None:
    for function in functions:
        if function.arn is None or not function.mappings:
            what = "is not deployed" if function.arn is None else "has no DynamoDB event source mapping"
            raise TargetError(f"{function.name} {what}; nothing was changed", hint="deploy first: `chalice deploy --stage ...`")


def check_destination(target: Target, functions: list[DeployedFunction], destination: str, *, exists: bool) -> None:
    """The destination is an SQS queue (existing unless it is to be created) both roles may send to."""
    if not destination.startswith("arn:") or destination.split(":")[2:3] != ["sqs"]:
        raise BadInput(f"--on-failure-arn {destination!r} is not an SQS queue ARN (the only destination "
                       "whose send permission the stage policies grant); nothing was changed")
    if exists:
        sqs = target.client("sqs")
        account, name = destination.split(":")[4:6]
        try:
            sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
        except ClientError as error:
            raise TargetError(f"--on-failure-arn: queue {destination} does not exist or cannot be read: "
                              f"{error}; nothing was changed") from error
    lambda_client = target.client("lambda")
    iam = target.client("iam")
    for function in functions:
        role = lambda_client.get_function_configuration(FunctionName=function.name)["Role"]
        try:
            documents = role_policies(iam, role)
        except (ClientError, BotoCoreError) as error:
            raise TargetError(f"cannot read the policies of {function.name}'s role {role}: {error}") from error
        if not allows(documents, "sqs:SendMessage", destination):
            raise TargetError(
                f"{function.name}'s role {role} may not sqs:SendMessage to {destination}: failed batches "
                "could not be delivered there; nothing was changed",
                hint="use --create-queue (the queue the stage policy allows), or add the queue to "
                     ".chalice/policy-<stage>-<handler>.json and deploy")


def apply_to_function(lambda_client: LambdaClient, function: DeployedFunction, settings: MappingSettings) -> list[str]:
    """Update every DynamoDB mapping of ``function``, then enable partial responses."""
    for mapping in function.mappings:
        lambda_client.update_event_source_mapping(UUID=mapping.uuid, **settings.update_arguments())
    for mapping in function.mappings:
        _wait_until_settled(lambda_client, mapping.uuid)
    variables = dict(function.environment)
    if variables.get(PARTIAL_RESPONSE_ENV) != "true":
        variables[PARTIAL_RESPONSE_ENV] = "true"
        lambda_client.update_function_configuration(FunctionName=function.name, Environment={"Variables": variables})
    return [mapping.uuid for mapping in function.mappings]


def _wait_until_settled(lambda_client: LambdaClient, uuid: str, *, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while lambda_client.get_event_source_mapping(UUID=uuid).get("State") in ("Updating", "Creating", "Enabling"):
        if time.monotonic() > deadline:
            raise TargetError(f"event source mapping {uuid} is still updating after {timeout_s:.0f}s")
        time.sleep(2)


@dataclass(frozen=True)
class CommandLine:
    """What ``backfill apply-mapping-settings`` was given."""

    app_name: str
    max_retries: int
    max_record_age: int
    no_bisect: bool
    on_failure_arn: str | None
    create_queue: bool
    yes: bool
    as_json: bool


@click.command("apply-mapping-settings", short_help="Apply the stage's stream mapping settings.")
@click.option("--app-name", default=APP_NAME, show_default=True, help="Chalice app name (function names are <app>-<stage>-<handler>).")
@click.option("--max-retries", default=10, show_default=True, type=click.IntRange(0, 10000), help="MaximumRetryAttempts per batch.")
@click.option("--max-record-age", default=86400, show_default=True, type=click.IntRange(60, 604800), help="MaximumRecordAgeInSeconds.")
@click.option("--no-bisect", is_flag=True, help="Do not split a failing batch in two.")
@click.option("--on-failure-arn", help="Existing SQS queue ARN for records that exhaust their retries (both functions' roles must allow sqs:SendMessage to it).")
@click.option("--create-queue", is_flag=True, help="Create the SQS queue <app>-<stage>-stream-failures (the one the stage policies allow) and use it as the on-failure destination.")
@yes_option
@json_option
@target_options
@command_line(CommandLine)
def command(target: Target, given: CommandLine) -> None:
    """Enable batch item failures, bisect, a retry limit and an on-failure destination on the
    deployed stream mappings (for `chalice deploy` users; `chalice package` uses the merge template)."""
    if given.create_queue and given.on_failure_arn:
        raise click.UsageError("give either --on-failure-arn or --create-queue, not both")
    stage = target.require_stage("apply-mapping-settings").name
    lambda_client = target.client("lambda")
    try:
        functions = [deployed_function(lambda_client, name) for name in function_names(stage, given.app_name)]
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"cannot read the functions of stage {stage!r}: {error}") from error
    check_functions(functions)
    queue_name = failure_queue_name(stage, given.app_name)
    destination = queue_arn(functions[0].arn or "", queue_name) if given.create_queue else given.on_failure_arn
    if destination:
        check_destination(target, functions, destination, exists=not given.create_queue)
    plan = {
        "functions": ", ".join(function.name for function in functions),
        "region": target.settings.region,
        "endpoint": lambda_client.meta.endpoint_url,
        "batch item failures": "ReportBatchItemFailures",
        "bisect on error": not given.no_bisect,
        "max retries": given.max_retries,
        "max record age (s)": given.max_record_age,
        "on failure": (f"SQS queue {queue_name} (created if missing)" if given.create_queue else given.on_failure_arn) or "(none)",
    }
    err.print(key_value_table("event source mapping settings", plan))
    confirm_or_refuse("Update these deployed event source mappings?", yes=given.yes)
    if given.create_queue:
        sqs = target.client("sqs")
        url = sqs.create_queue(QueueName=queue_name, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
        destination = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    settings = MappingSettings(given.max_retries, given.max_record_age, not given.no_bisect, destination)
    updated = {function.name: apply_to_function(lambda_client, function, settings) for function in functions}
    if given.as_json:
        print_json({"updated": updated, "settings": settings.update_arguments()})
    else:
        for name, uuids in updated.items():
            err.print(f"[green]updated[/] {name}: {', '.join(uuids)}; {PARTIAL_RESPONSE_ENV}=true")
