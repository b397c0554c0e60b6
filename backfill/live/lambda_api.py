"""AWS calls for the live path: find, pause, resume and inspect the stream mappings; alarms.

Mappings are looked up by function ARN (what `chalice deploy` passes when it creates them;
moto only finds them that way, AWS accepts names and ARNs) or by the tables' stream ARNs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from backfill.live.alarms import differs
from backfill.live.model import StreamMapping, function_names

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_cloudwatch import CloudWatchClient
    from types_boto3_cloudwatch.type_defs import MetricAlarmTypeDef
    from types_boto3_lambda import LambdaClient
    from types_boto3_lambda.type_defs import ListEventSourceMappingsRequestPaginateTypeDef
    from typing_extensions import Unpack  # typing's from Python 3.11


class LivePathError(Exception):
    """A live-path operation could not be done; the message names the function or mapping."""


@dataclass(frozen=True)
class DeployedFunction:
    name: str
    arn: str | None  # None: not deployed
    environment: dict[str, str] = field(default_factory=dict)
    mappings: tuple[StreamMapping, ...] = ()


def _is_not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def dynamodb_mappings(lambda_client: LambdaClient,
                      **selector: Unpack[ListEventSourceMappingsRequestPaginateTypeDef]) -> list[StreamMapping]:
    """Every DynamoDB-stream mapping for ``FunctionName=`` or ``EventSourceArn=``."""
    paginator = lambda_client.get_paginator("list_event_source_mappings")
    return [
        StreamMapping.from_api(raw)
        for page in paginator.paginate(**selector)
        for raw in page["EventSourceMappings"]
        if ":dynamodb:" in raw.get("EventSourceArn", "")
    ]


def deployed_function(lambda_client: LambdaClient, name: str) -> DeployedFunction:
    try:
        configuration = lambda_client.get_function_configuration(FunctionName=name)
    except ClientError as error:
        if _is_not_found(error):
            return DeployedFunction(name=name, arn=None)
        raise
    arn = configuration["FunctionArn"]
    return DeployedFunction(
        name=name,
        arn=arn,
        environment=dict(configuration.get("Environment", {}).get("Variables", {})),
        mappings=tuple(dynamodb_mappings(lambda_client, FunctionName=arn)),
    )


def stage_functions(lambda_client: LambdaClient, stage: str, app_name: str) -> list[DeployedFunction]:
    """Both handler functions of ``stage``; raises when neither is deployed."""
    functions = [deployed_function(lambda_client, name) for name in function_names(stage, app_name)]
    if not any(function.arn for function in functions):
        names = ", ".join(function.name for function in functions)
        raise LivePathError(f"stage {stage!r} is not deployed here: no function {names} "
                            "(deploy first: `chalice deploy --stage ...`)")
    return functions


def set_enabled(lambda_client: LambdaClient, mappings: Iterable[StreamMapping], enabled: bool, *,
                timeout_s: float = 300, poll_s: float = 2.0,
                sleep: Callable[[float], None] = time.sleep) -> list[StreamMapping]:
    """Enable or disable ``mappings`` and wait (bounded) until Lambda reports the state reached.

    Returns the mappings as they are at the end. Raises LivePathError naming a mapping that did
    not get there within ``timeout_s``.
    """
    target_state = "Enabled" if enabled else "Disabled"
    pending = list(mappings)
    for mapping in pending:
        if mapping.state != target_state:
            try:
                lambda_client.update_event_source_mapping(UUID=mapping.uuid, Enabled=enabled)
            except ClientError as error:
                raise LivePathError(f"cannot {'enable' if enabled else 'disable'} mapping {mapping.uuid} "
                                    f"of {mapping.function}: {error}") from error
    deadline = time.monotonic() + timeout_s
    final: list[StreamMapping] = []
    for mapping in pending:
        while True:
            current = StreamMapping.from_api(lambda_client.get_event_source_mapping(UUID=mapping.uuid))
            if current.state == target_state:
                final.append(current)
                break
            if time.monotonic() > deadline:
                raise LivePathError(f"mapping {mapping.uuid} of {mapping.function} is {current.state}, "
                                    f"not {target_state}, after {timeout_s:.0f}s")
            sleep(poll_s)
    return final


def iterator_age_ms(cloudwatch: CloudWatchClient, function: str, *, minutes: int = 15) -> float | str:
    """The largest IteratorAge of the last ``minutes`` (ms), or why there is no figure."""
    now = datetime.now(timezone.utc)
    try:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName="IteratorAge",
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            StartTime=now - timedelta(minutes=minutes), EndTime=now, Period=60, Statistics=["Maximum"],
        )["Datapoints"]
    except (ClientError, BotoCoreError) as error:
        return f"unreachable ({error.__class__.__name__})"
    if not points:
        return f"no data in the last {minutes} min"
    return max(point["Maximum"] for point in points)


@dataclass
class AlarmChanges:
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def put_alarms(cloudwatch: CloudWatchClient, specs: Sequence[dict[str, Any]]) -> AlarmChanges:
    """Create or update each alarm that is missing or differs; leave the others untouched."""
    names = [spec["AlarmName"] for spec in specs]
    existing: dict[str, MetricAlarmTypeDef] = {}
    for start in range(0, len(names), 100):  # describe_alarms takes at most 100 names
        paginator = cloudwatch.get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm"]):
            existing.update({alarm["AlarmName"]: alarm for alarm in page["MetricAlarms"]})
    changes = AlarmChanges()
    for spec in specs:
        fields = differs(spec, existing.get(spec["AlarmName"]))
        if not fields:
            changes.unchanged.append(spec["AlarmName"])
            continue
        cloudwatch.put_metric_alarm(**spec)
        if spec["AlarmName"] in existing:
            changes.updated[spec["AlarmName"]] = fields
        else:
            changes.created.append(spec["AlarmName"])
    return changes
