"""The live-path check a rollback makes before it writes (``backfill restore``).

Any enabled event source mapping reading the stream of a table the declaration names would feed
the restored rows back to the handlers, which upgrade them again. The check finds them by the
tables' stream ARNs (whatever function or stage they belong to) and either refuses, pauses
them (and says how to resume), or, when told the operator accepts it, only warns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from backfill.console import err
from backfill.errors import Refused, TargetError
from backfill.live.lambda_api import LivePathError, dynamodb_mappings, set_enabled
from backfill.live.model import StreamMapping, running, switch_commands
from backfill.table.target import Target
from chalicelib.aws import RETRY_CONFIG
from chalicelib.schema import active_schema

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_lambda import LambdaClient


def _stream_arn(dynamodb: DynamoDBClient, table: str) -> str | None:
    description = dynamodb.describe_table(TableName=table)["Table"]
    enabled = description.get("StreamSpecification", {}).get("StreamEnabled")
    return description.get("LatestStreamArn") if enabled else None


def lambda_at(target: Target) -> LambdaClient:
    """Lambda at the target. A local endpoint (moto, DynamoDB Local) answers at once or has no
    Lambda API at all (DynamoDB Local: InternalFailure), so one attempt; AWS gets three."""
    settings = target.settings
    attempts = 1 if settings.endpoint_url else 3
    config = RETRY_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": attempts}))
    kwargs: dict[str, Any] = {"region_name": settings.region, "config": config}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    target.check_reachable()
    return target.session.client("lambda", **kwargs)


def running_mappings(target: Target, lambda_client: LambdaClient) -> list[StreamMapping]:
    """Mappings not Disabled on the streams of the declaration's tables (its own, the aggregate's source)."""
    found: list[StreamMapping] = []
    for table in map(target.settings.table, active_schema().tables):
        arn = _stream_arn(target.dynamodb, table)
        if arn:
            found += dynamodb_mappings(lambda_client, EventSourceArn=arn)
    return running(found)


@dataclass
class LivePathCheck:
    """The outcome of the check: mappings to pause (``pause()``, once the backup is validated)."""

    lambda_client: LambdaClient
    to_pause: list[StreamMapping]

    def pause(self) -> list[StreamMapping]:
        """Pause what the check found; the resume command is printed when the command ends."""
        if not self.to_pause:
            return []
        try:
            paused = set_enabled(self.lambda_client, self.to_pause, False)
        except (LivePathError, ClientError, BotoCoreError) as error:
            raise TargetError(f"pausing the live path failed, nothing was restored: {error}") from error
        err.print(f"Live path paused: {_describe(paused)}.", highlight=False, soft_wrap=True)
        click.get_current_context().call_on_close(lambda: _print_resume(paused))
        self.to_pause = []
        return paused


def _describe(mappings: list[StreamMapping]) -> str:
    return "; ".join(f"{m.function} reads {m.table} ({m.state}, mapping {m.uuid})" for m in mappings)


def guard_live_path(target: Target, *, allow_running: bool, pause: bool) -> LivePathCheck:
    """Refuse (Refused, exit 3) while the live path runs, unless ``pause`` (then ``.pause()`` it before
    writing) or ``allow_running`` (a warning). Read-only: nothing is changed here."""
    if allow_running and pause:
        raise click.UsageError("give either --pause-live-path or --live-path-running, not both")
    lambda_client = lambda_at(target)
    nothing = LivePathCheck(lambda_client, [])
    try:
        mappings = running_mappings(target, lambda_client)
    except (ClientError, BotoCoreError) as error:
        if target.settings.endpoint_url:  # a local endpoint without a Lambda API has no live path
            err.print(f"[yellow]Live path not checked:[/] no Lambda API at {target.settings.endpoint_url} "
                      f"({error.__class__.__name__}).")
            return nothing
        if allow_running:
            err.print(f"[yellow]Live path not checked ({error}); --live-path-running given.[/]")
            return nothing
        raise TargetError(f"cannot check the live path (Lambda event source mappings), nothing was "
                          f"restored: {error}", hint="give --live-path-running if it is stopped") from error
    if not mappings:
        return nothing
    if allow_running:
        err.print(f"[yellow]The live path is running (--live-path-running):[/] {_describe(mappings)}. "
                  "Its handlers will upgrade restored rows again.", highlight=False, soft_wrap=True)
        return nothing
    if not pause:
        raise Refused(f"refusing to restore, nothing was written: the live path is running: "
                      f"{_describe(mappings)}; its handlers would upgrade the restored rows again",
                      hint=f"pause it first ({'; '.join(switch_commands(mappings, 'pause'))}), or give "
                           "--pause-live-path to pause it, restore and leave it paused")
    return LivePathCheck(lambda_client, mappings)


def _print_resume(paused: list[StreamMapping]) -> None:
    err.print("[bold]The live path stays paused.[/] Resumed as it is, it would upgrade the restored items again, "
              "so `backfill live resume` refuses until the table is migrated again. Deploy the previous version's "
              "live path (or none); to go forward again, migrate first, then resume with:", highlight=False)
    for command in switch_commands(paused, "resume"):
        err.print(f"  {command}", highlight=False, soft_wrap=True)
