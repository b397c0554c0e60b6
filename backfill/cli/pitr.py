"""The PITR check of the writing commands (migrate, restore): refuse or warn before any write."""

from __future__ import annotations

import click
from rich.markup import escape

from backfill.console import err
from backfill.errors import Refused
from backfill.table.pitr import PitrState, pitr_state
from backfill.table.stage import Stage, load_stages
from backfill.table.target import Target

REQUIRE_PITR_VARIABLE = "BACKFILL_REQUIRE_PITR"
_TRUE = ("1", "true", "yes", "on")

require_pitr_option = click.option(
    "--require-pitr", is_flag=True, envvar=REQUIRE_PITR_VARIABLE,
    help="Refuse (exit 3) to write to a table whose point-in-time recovery is off or cannot be checked; "
         "without it a warning. Also on by a --stage whose environment in the Chalice config sets "
         "BACKFILL_REQUIRE_PITR=true (a production stage). Env: BACKFILL_REQUIRE_PITR=1.")


def why_required(target: Target, flag: bool) -> str | None:
    """Why PITR is required here: the flag (or its variable), or a production stage; None if not.

    Production is a property of the stage's config, not of its name: a stage requires PITR when
    its environment says so, and, against AWS itself (no endpoint URL), so does a stage naming a
    table that a stage requiring PITR names (``local`` and ``prod`` may both say ``events``)."""
    if flag:
        return "--require-pitr is set"
    stage = target.stage
    if stage is None:
        return None
    if requires_pitr(stage):
        return f"stage {stage.name!r} requires it ({REQUIRE_PITR_VARIABLE} in {stage.config_path})"
    if target.settings.endpoint_url:
        return None  # a local endpoint (DynamoDB Local, moto, LocalStack): not a production table
    for other in load_stages(stage.config_path):
        shared = sorted(stage.tables & other.tables)
        if other.name != stage.name and requires_pitr(other) and shared:
            return (f"stage {other.name!r} requires it ({REQUIRE_PITR_VARIABLE} in {stage.config_path}) and names the "
                    f"same table {shared[0]!r} as stage {stage.name!r}, here on AWS itself")
    return None


def requires_pitr(stage: Stage) -> bool:
    return stage.environment.get(REQUIRE_PITR_VARIABLE, "").strip().lower() in _TRUE


def check_pitr(target: Target, table: str, *, required: bool, writing: bool = True) -> PitrState:
    """Report the table's PITR; before writes, refuse (``required`` or a production stage) or
    warn when it is not on."""
    state = pitr_state(target.dynamodb, table)
    if state.enabled or not writing:
        err.print(f"Point-in-time recovery of {table}: {escape(state.describe())}")
        return state
    reason = why_required(target, required)
    if reason is not None:
        raise Refused(f"point-in-time recovery of table {table!r} is {state.describe()} and {reason}: "
                      f"nothing was written; enable it with: {state.enable_command()}")
    err.print(f"[bold yellow]Warning:[/] point-in-time recovery of table {table} is {escape(state.describe())}: "
              f"the run's own backup is the only way back. Enable it with: {escape(state.enable_command())}",
              soft_wrap=True)
    return state
