"""The PITR check of the writing commands (migrate, restore): refuse or warn before any write."""

from __future__ import annotations

import click
from rich.markup import escape

from backfill.console import err
from backfill.errors import Refused
from backfill.table.pitr import PitrState, pitr_state
from backfill.table.target import Target

require_pitr_option = click.option(
    "--require-pitr", is_flag=True, envvar="BACKFILL_REQUIRE_PITR",
    help="Refuse (exit 3) to write to a table whose point-in-time recovery is off or cannot be checked; "
         "without it a warning. Env: BACKFILL_REQUIRE_PITR=1.")


def check_pitr(target: Target, table: str, *, required: bool, writing: bool = True) -> PitrState:
    """Report the table's PITR; before writes, refuse (``required``) or warn when it is not on."""
    state = pitr_state(target.dynamodb, table)
    if state.enabled or not writing:
        err.print(f"Point-in-time recovery of {table}: {escape(state.describe())}", soft_wrap=True)
        return state
    if required:
        raise Refused(f"point-in-time recovery of table {table!r} is {state.describe()} and --require-pitr is set: "
                      f"nothing was written; enable it with: {state.enable_command()}")
    err.print(f"[bold yellow]Warning:[/] point-in-time recovery of table {table} is {escape(state.describe())}: "
              f"the run's own backup is the only way back. Enable it with: {escape(state.enable_command())}",
              soft_wrap=True)
    return state
