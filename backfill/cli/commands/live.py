"""``backfill live status|pause|resume|alarms --stage S``: operate the deployed live path.

Pausing disables both stream mappings of a stage (records wait in the streams, up to their
24-hour retention; nothing is lost) and waits until Lambda reports them Disabled; resuming
enables them again and the handlers catch up from where they stopped. A rollback pauses first,
or the handlers upgrade the restored rows again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from backfill.cli.options import backup_dir_option, json_option, target_options
from backfill.console import err, key_value_table, print_json
from backfill.errors import BadInput, TargetError, explain
from backfill.live.alarms import DEFAULT_ITERATOR_AGE_MS, AlarmTarget, alarm_specs
from backfill.live.lambda_api import (
    DeployedFunction,
    LivePathError,
    iterator_age_ms,
    put_alarms,
    set_enabled,
    stage_functions,
)
from backfill.live.model import APP_NAME, StreamMapping
from backfill.live.rollback import refuse_after_rollback, rollback_option
from backfill.live.version import deployed_version
from backfill.table.target import Target
from chalicelib.schema import active_schema


def with_stage(command_name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Passes ``stage``, the name given with the target's --stage, which ``command_name`` needs."""

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(function)
        def wrapper(*args: Any, target: Target, **kwargs: Any) -> None:
            function(*args, target=target, stage=target.require_stage(command_name).name, **kwargs)

        return wrapper

    return decorate
app_name_option = click.option("--app-name", default=APP_NAME, show_default=True,
                               help="Chalice app name (functions are <app>-<stage>-<handler>).")
timeout_option = click.option("--timeout", default=300, show_default=True, type=click.IntRange(1, 3600),
                              help="Seconds to wait for the mappings to reach their state.")


def _functions(target: Target, stage: str, app_name: str) -> tuple[Any, list[DeployedFunction]]:
    lambda_client = target.client("lambda")
    try:
        return lambda_client, stage_functions(lambda_client, stage, app_name)
    except LivePathError as error:
        raise TargetError(f"{error} (looked at {lambda_client.meta.endpoint_url} in region "
                          f"{target.settings.region})") from error
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"cannot read the functions of stage {stage!r} at "
                          f"{lambda_client.meta.endpoint_url} in region {target.settings.region}: {error}") from error


def mapping_row(mapping: StreamMapping) -> dict[str, Any]:
    return {
        "function": mapping.function, "table": mapping.table, "uuid": mapping.uuid, "state": mapping.state,
        "batch_size": mapping.batch_size, "max_retries": mapping.maximum_retry_attempts,
        "bisect": mapping.bisect_on_error, "partial_batch_responses": mapping.report_batch_item_failures,
        "on_failure": mapping.on_failure,
    }


def _show_mappings(title: str, rows: list[dict[str, Any]]) -> None:
    """One small table per mapping (a wide table would truncate ARNs and UUIDs)."""
    err.print(f"[bold]{title}[/]")
    for row in rows:
        heading = f"{row.get('function')}" + (f" <- {row['table']} stream" if row.get("table") else "")
        err.print(key_value_table(heading, {k.replace("_", " "): v for k, v in row.items()
                                            if k not in ("function", "table")}))


def _failures_count(target: Target, functions: list[DeployedFunction]) -> dict[str, int | str]:
    tables = sorted({f.environment["FAILURES_TABLE"] for f in functions if "FAILURES_TABLE" in f.environment})
    counts: dict[str, int | str] = {}
    for table in tables:
        try:
            counts[table] = target.count_items(table)
        except (ClientError, BotoCoreError) as error:
            counts[table] = f"unreachable ({error.__class__.__name__})"
    return counts


@click.group("live", short_help="Show, pause and resume the deployed live path.")
def command() -> None:
    """Show, pause and resume the deployed stream handlers; create their alarms."""


@command.command("status", short_help="Show the stream mappings and the live path's health.")
@app_name_option
@json_option
@target_options
@with_stage("live status")
def status(target: Target, stage: str, app_name: str, as_json: bool) -> None:
    """Each mapping's state, batch settings, failure destination and iterator age, the schema
    version each function runs (DYNAMO_EVOLVE_SCHEMA_VERSION) against this declaration's; the
    failures table's count."""
    _, functions = _functions(target, stage, app_name)
    cloudwatch = target.client("cloudwatch")
    rows: list[dict[str, Any]] = []
    for function in functions:
        if function.arn is None:
            rows.append({"function": function.name, "state": "not deployed"})
            continue
        version = deployed_version(function)
        if not function.mappings:
            rows.append({"function": function.name, "state": "no stream mapping", "schema_version": version})
        age = iterator_age_ms(cloudwatch, function.name)
        rows += [{**mapping_row(mapping), "schema_version": version, "iterator_age_ms": age}
                 for mapping in function.mappings]
    failures = _failures_count(target, functions)
    ours = active_schema().version
    if as_json:
        print_json({"stage": stage, "mappings": rows, "failures": failures, "declaration_schema_version": ours})
        return
    _show_mappings(f"live path of stage {stage} (this declaration: schema version {ours})", rows)
    err.print(key_value_table("failures tables (records the live path refused)", failures))


def _switch(target: Target, stage: str, app_name: str, enabled: bool, timeout: int, as_json: bool) -> None:
    lambda_client, functions = _functions(target, stage, app_name)
    mappings = [mapping for function in functions for mapping in function.mappings]
    if not mappings:
        raise TargetError(f"stage {stage!r} has no stream mapping to {'resume' if enabled else 'pause'}")
    try:
        final = set_enabled(lambda_client, mappings, enabled, timeout_s=timeout)
    except LivePathError as error:
        raise TargetError(str(error)) from error
    rows = [mapping_row(mapping) for mapping in final]
    if as_json:
        print_json({"stage": stage, "mappings": rows})
        return
    _show_mappings(f"live path of stage {stage} {'resumed' if enabled else 'paused'}", rows)
    if not enabled:
        err.print(f"Resume with: backfill live resume --stage {stage}"
                  + ("" if app_name == APP_NAME else f" --app-name {app_name}"), highlight=False)


@command.command("pause", short_help="Disable both stream mappings.")
@app_name_option
@timeout_option
@json_option
@target_options
@with_stage("live pause")
def pause(target: Target, stage: str, app_name: str, timeout: int, as_json: bool) -> None:
    """Disable both stream mappings and wait until they are Disabled (records wait in the
    streams, 24 h retention)."""
    _switch(target, stage, app_name, False, timeout, as_json)


@command.command("resume", short_help="Enable both stream mappings.")
@app_name_option
@timeout_option
@backup_dir_option
@rollback_option
@json_option
@target_options
@with_stage("live resume")
def resume(target: Target, stage: str, app_name: str, timeout: int, backup_dir: str, despite_rollback: bool,
           as_json: bool) -> None:
    """Enable both stream mappings and wait until they are Enabled (the handlers catch up from
    where they stopped). Refused while the run store (--backup-dir) shows the table rolled back
    since its last migration: the handlers would upgrade the restored items again."""
    refuse_after_rollback(target, backup_dir, despite=despite_rollback, what="backfill live resume")
    _switch(target, stage, app_name, True, timeout, as_json)


@command.command("alarms", short_help="Create the live path's CloudWatch alarms.")
@app_name_option
@click.option("--iterator-age-ms", default=DEFAULT_ITERATOR_AGE_MS, show_default=True, type=click.IntRange(min=1000),
              help="Alarm when a handler is further behind its stream than this.")
@click.option("--topic-arn", help="SNS topic to notify (alarm and OK). It must exist.")
@json_option
@target_options
@with_stage("live alarms")
def alarms(target: Target, stage: str, app_name: str, iterator_age_ms: int, topic_arn: str | None,
           as_json: bool) -> None:
    """Create or update the stage's CloudWatch alarms (iterator age, errors, throttles, records
    refused, failure-queue depth). Idempotent: a second run changes nothing."""
    _, functions = _functions(target, stage, app_name)
    environment = next(function.environment for function in functions if function.arn)
    missing = [name for name in ("POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME") if not environment.get(name)]
    if missing:
        raise TargetError(f"{functions[0].name} does not set {', '.join(missing)}: "
                          "cannot tell which metrics the handlers publish")
    if topic_arn:
        _check_topic(target, topic_arn)
    specs = alarm_specs(AlarmTarget(
        stage=stage, app_name=app_name, iterator_age_ms=iterator_age_ms, topic_arn=topic_arn,
        metrics_namespace=environment["POWERTOOLS_METRICS_NAMESPACE"],
        metrics_service=environment["POWERTOOLS_SERVICE_NAME"],
    ))
    cloudwatch = target.client("cloudwatch")
    try:
        changes = put_alarms(cloudwatch, specs)
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"cannot create alarms at {cloudwatch.meta.endpoint_url}: {error}") from error
    if as_json:
        print_json({"created": changes.created, "updated": changes.updated, "unchanged": changes.unchanged})
        return
    err.print(key_value_table(f"alarms of stage {stage}", {
        "created": ", ".join(changes.created) or "-",
        "updated": ", ".join(f"{name} ({', '.join(fields)})" for name, fields in changes.updated.items()) or "-",
        "unchanged": len(changes.unchanged),
    }))


def _check_topic(target: Target, topic_arn: str) -> None:
    if not topic_arn.startswith("arn:") or ":sns:" not in topic_arn:
        raise BadInput(f"--topic-arn {topic_arn!r} is not an SNS topic ARN")
    sns = target.client("sns")
    try:
        sns.get_topic_attributes(TopicArn=topic_arn)
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"--topic-arn: topic {topic_arn} cannot be read at {sns.meta.endpoint_url} in region "
                          f"{target.settings.region}: {explain(error).message}",
                          hint="create it first (aws sns create-topic --name NAME) or leave out --topic-arn") from error
