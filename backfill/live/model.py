"""Names and states of the live path: pure, no AWS calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.config import APP_NAME as APP_NAME
from chalicelib.config import function_name as function_name
from chalicelib.config import function_names as function_names
from chalicelib.config import handlers as handlers

# Of Lambda's EventSourceMapping.State values only Disabled means no record can be delivered
# (Disabling, Enabling, Updating, Creating may still invoke the function).
PAUSED_STATES = frozenset({"Disabled"})


def failure_queue_name(stage: str, app_name: str = APP_NAME) -> str:
    """Matches the sqs:SendMessage statement of .chalice/policy-<stage>-<handler>.json."""
    return f"{app_name}-{stage}-stream-failures"


def stage_of(function: str, app_name: str = APP_NAME) -> str | None:
    """The stage of a chalice-named handler function (name or ARN), None for any other function."""
    name = function.rsplit(":function:", 1)[-1].split(":", 1)[0]
    for handler in handlers():
        prefix, suffix = f"{app_name}-", f"-{handler}"
        if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix):
            return name[len(prefix) : -len(suffix)]
    return None


@dataclass(frozen=True)
class StreamMapping:
    """One event source mapping as Lambda describes it, reduced to what operators look at."""

    uuid: str
    function_arn: str
    source_arn: str
    state: str
    batch_size: int | None = None
    maximum_retry_attempts: int | None = None
    bisect_on_error: bool | None = None
    report_batch_item_failures: bool = False
    on_failure: str | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> StreamMapping:
        destination = raw.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        return cls(
            uuid=raw["UUID"],
            function_arn=raw.get("FunctionArn", ""),
            source_arn=raw.get("EventSourceArn", ""),
            state=raw.get("State", "Unknown"),
            batch_size=raw.get("BatchSize"),
            maximum_retry_attempts=raw.get("MaximumRetryAttempts"),
            bisect_on_error=raw.get("BisectBatchOnFunctionError"),
            report_batch_item_failures="ReportBatchItemFailures" in raw.get("FunctionResponseTypes", []),
            on_failure=destination or None,
        )

    @property
    def function(self) -> str:
        return self.function_arn.rsplit(":function:", 1)[-1]

    @property
    def table(self) -> str:
        """The table whose stream this mapping reads (from ...:table/NAME/stream/...)."""
        return self.source_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]

    @property
    def paused(self) -> bool:
        return self.state in PAUSED_STATES


def running(mappings: Iterable[StreamMapping]) -> list[StreamMapping]:
    """Mappings that may still deliver records (anything not Disabled: Enabling counts too)."""
    return [mapping for mapping in mappings if not mapping.paused]


def switch_commands(mappings: Iterable[StreamMapping], action: str, app_name: str = APP_NAME) -> list[str]:
    """How to pause or resume ``mappings`` (action "pause" or "resume"): one `backfill live`
    command per stage, the AWS CLI for mappings of functions this app did not name."""
    enabled = "--enabled" if action == "resume" else "--no-enabled"
    commands: list[str] = []
    for mapping in mappings:
        stage = stage_of(mapping.function_arn, app_name)
        command = (
            f"backfill live {action} --stage {stage}" + ("" if app_name == APP_NAME else f" --app-name {app_name}")
            if stage
            else f"aws lambda update-event-source-mapping --uuid {mapping.uuid} {enabled}"
        )
        if command not in commands:
            commands.append(command)
    return commands
