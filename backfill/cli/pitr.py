"""The PITR check of the writing commands (migrate, restore): refuse or warn before any write."""

from __future__ import annotations

import click
from rich.markup import escape

from backfill.console import err
from backfill.errors import Refused
from backfill.table.pitr import PitrState, pitr_state
from backfill.table.target import Target

REQUIRE_PITR_VARIABLE = "BACKFILL_REQUIRE_PITR"
_TRUE = ("1", "true", "yes", "on")

require_pitr_option = click.option(
    "--require-pitr", is_flag=True, envvar=REQUIRE_PITR_VARIABLE,
    help="Refuse (exit 3) to write to a table whose point-in-time recovery is off or cannot be checked; "
         "without it a warning. Also on by a --stage whose environment in the Chalice config sets "
         "BACKFILL_REQUIRE_PITR=true (a production stage). Env: BACKFILL_REQUIRE_PITR=1.")


def why_required(target: Target, flag: bool) -> str | None:
    """Why PITR is required here: the flag (or its variable), or a production stage; None if not."""
    if flag:
        return "--require-pitr is set"
    stage = target.stage
    if stage is not None and stage.environment.get(REQUIRE_PITR_VARIABLE, "").strip().lower() in _TRUE:
        return f"stage {stage.name!r} requires it ({REQUIRE_PITR_VARIABLE} in {stage.config_path})"
    return None


def check_pitr(target: Target, table: str, *, required: bool, writing: bool = True) -> PitrState:
    """Report the table's PITR; before writes, refuse (``required`` or a production stage) or
    warn when it is not on."""
    state = pitr_state(target.dynamodb, table)
    if state.enabled or not writing:
        err.print(f"Point-in-time recovery of {table}: {escape(state.describe())}", soft_wrap=True)
        return state
    reason = why_required(target, required)
    if reason is not None:
        raise Refused(f"point-in-time recovery of table {table!r} is {state.describe()} and {reason}: "
                      f"nothing was written; enable it with: {state.enable_command()}")
    err.print(f"[bold yellow]Warning:[/] point-in-time recovery of table {table} is {escape(state.describe())}: "
              f"the run's own backup is the only way back. Enable it with: {escape(state.enable_command())}",
              soft_wrap=True)
    return state
