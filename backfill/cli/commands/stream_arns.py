"""``backfill stream-arns``: put the tables' current stream ARNs into a Chalice stage's config,
and the version of the declaration the app will be deployed with (DYNAMO_EVOLVE_SCHEMA_VERSION:
app.py refuses to be packaged or deployed with another; ``backfill live status`` shows it).

Chalice reads ``<TABLE>_STREAM_ARN`` of each table the declaration names (ORDERS_STREAM_ARN,
ORDER_ITEMS_STREAM_ARN for the orders example) from .chalice/config.json when it
deploys or packages app.py; a stream ARN is only known once the table exists (and changes if
streams are turned off and on), so it is looked up rather than typed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from botocore.exceptions import ClientError

from backfill.cli.options import json_option, target_options
from backfill.console import err, key_value_table, print_json
from backfill.errors import TargetError, explain
from backfill.live.json_edit import replace_strings
from backfill.live.policy_scope import policy_files, region_and_account, scoped
from backfill.run.backup import write_text_atomic
from backfill.table.target import Target
from chalicelib.config import SCHEMA_VERSION_VAR, stream_variable, table_variable
from chalicelib.schema import active_schema

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient


def arn_variables() -> dict[str, str]:
    """<TABLE>_TABLE -> <TABLE>_STREAM_ARN of each table the active declaration names."""
    return {table_variable(name): stream_variable(name) for name in active_schema().tables}


def stage_tables(merged: dict[str, str], stage: str) -> dict[str, str]:
    """<TABLE>_TABLE of each declared table in ``stage`` (its environment, global values included)."""
    missing = [name for name in arn_variables() if name not in merged]
    if missing:
        raise click.ClickException(f"stage {stage!r} does not set {', '.join(missing)}")
    return {name: merged[name] for name in arn_variables()}


def latest_stream_arn(dynamodb: DynamoDBClient, table: str) -> str:
    try:
        description = dynamodb.describe_table(TableName=table)["Table"]
    except ClientError as error:
        raise TargetError(f"cannot describe table {table}: {explain(error).message}") from error
    arn = description.get("LatestStreamArn")
    if not arn or not description.get("StreamSpecification", {}).get("StreamEnabled"):
        raise click.ClickException(f"table {table} has no enabled stream: enable NEW_AND_OLD_IMAGES streams first")
    return arn


def with_arns(text: str, stage: str, arns: dict[str, str], config_path: Path) -> str:
    """The config text with only the stage's ARN values and schema version changed (formatting kept)."""
    values = {**arns, SCHEMA_VERSION_VAR: str(active_schema().version)}
    try:
        return replace_strings(text, ["stages", stage, "environment_variables"], values)
    except KeyError as missing:
        raise click.ClickException(
            f"{config_path}: {missing.args[0]} is missing; add the stage's {' and '.join(values)} "
            "(any value) to its environment_variables, then run again") from None


def _scope_policies(config_path: Path, stage: str, arns: list[str]) -> None:
    """Rewrite the stage's function policies to name the region and account of its stream ARNs."""
    region, account = region_and_account(arns)
    for policy in policy_files(config_path, stage):
        if not policy.exists():
            err.print(f"[bold yellow]Warning:[/] {policy} (the iam_policy_file of stage {stage}) does not exist: "
                      "chalice deploy will refuse the stage", soft_wrap=True)
            continue
        text = policy.read_text(encoding="utf-8")
        if scoped(text, region, account) != text:
            write_text_atomic(policy, scoped(text, region, account), private=False)
            err.print(f"{policy}: ARNs now in region {region}, account {account}")


@click.command("stream-arns", short_help="Look up a stage's stream ARNs.")
@click.option("--write", is_flag=True, help="Write the ARNs and the declaration's schema version "
              f"({SCHEMA_VERSION_VAR}) into the stage's environment_variables (only those values change).")
@json_option
@target_options
def command(target: Target, write: bool, as_json: bool) -> None:
    """Look up the stream ARNs of a stage's tables (and with --write, store them for chalice, and
    scope the stage's function policies to the region and account they name)."""
    chosen = target.require_stage("stream-arns")
    stage, config_path = chosen.name, chosen.config_path
    text = config_path.read_text(encoding="utf-8")
    tables = stage_tables(chosen.environment, stage)
    arns = {arn_variables()[name]: latest_stream_arn(target.dynamodb, table) for name, table in tables.items()}
    if write:
        write_text_atomic(config_path, with_arns(text, stage, arns, config_path), private=False)
        _scope_policies(config_path, stage, list(arns.values()))
    shown = {**arns, SCHEMA_VERSION_VAR: str(active_schema().version)}
    if as_json:
        print_json(shown)
    else:
        err.print(key_value_table(f"stage {stage} at {target.endpoint}" + (f" (written to {config_path})" if write else ""), shown))
