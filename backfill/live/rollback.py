"""The live path after a rollback: refused until the table is migrated again (``backfill.run.rollback``).

Both ways of running the live path ask here first: the local runner (``backfill streams``) and
resuming the deployed mappings (``backfill live resume``)."""

from __future__ import annotations

from pathlib import Path

import click

from backfill.errors import Refused
from backfill.run.rollback import standing_rollback
from backfill.table.target import Target

rollback_option = click.option(
    "--despite-rollback", is_flag=True,
    help="Run the live path although the run store shows the table rolled back (a restore) since its last "
         "migration: its handlers will upgrade the restored items again.")


def refuse_after_rollback(target: Target, backup_dir: str, *, despite: bool, what: str) -> None:
    """Refuse (exit 3) ``what`` while the migrated table stands rolled back, unless ``despite``."""
    if not backup_dir.startswith("s3://") and not Path(backup_dir).is_dir():
        return  # no local run store: nothing was migrated or restored from here
    rollback = standing_rollback(target.run_store(backup_dir), target.settings.target_table)
    if rollback is None or despite:
        return
    raise Refused(
        f"{what}: {rollback.describe()}; the live path of this declaration would upgrade the restored items "
        "again, undoing the rollback",
        hint="after a rollback, run the previous version's live path (or none); to go forward again, run "
             "backfill migrate first (docs/how-to/migrate.md, 'After a rollback'); --despite-rollback overrides")
