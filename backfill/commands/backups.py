"""``backfill backups``: list the backups with table, time, item count and checksum state."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from backfill.backup import BackupListing, list_backups
from backfill.console import err, print_json
from backfill.ledger import LEDGER_SUFFIX, ledger_exists
from backfill.options import backup_dir_option, json_option, store_endpoint_option
from backfill.store import open_store


@click.command("backups")
@click.option("--table", help="Only backups of this table.")
@backup_dir_option
@store_endpoint_option
@json_option
def command(table: str | None, backup_dir: str, endpoint_url: str | None, as_json: bool) -> None:
    """List backups (newest first); every data file is checked against its manifest's sha256."""
    listings = list_backups(open_store(backup_dir, endpoint_url=endpoint_url), table, check=True)
    rows = [describe(entry) for entry in listings]
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print(f"No backups in {backup_dir}.")
        return
    listing = Table(title=f"backups in {backup_dir} (restore with: backfill --restore {str(backup_dir).rstrip('/')}/RUN_ID.jsonl.gz)",
                    title_justify="left")
    listing.add_column("run id", no_wrap=True)
    for column in ("table", "created", "items", "checksum", "ledger"):
        listing.add_column(column)
    for row in rows:
        state = "[green]ok[/]" if row["ok"] else f"[red]{row['problem']}[/]"
        created = str(row["created_at"])[:19].replace("T", " ")
        listing.add_row(str(row["run_id"] or row["file"]), str(row["table"]), created, str(row["item_count"]),
                        state, "yes" if row["ledger"] else "-")
    err.print(listing)


def describe(entry: BackupListing) -> dict[str, Any]:
    backup = entry.backup
    return {
        "run_id": backup.run_id if backup else None,
        "table": backup.table if backup else None,
        "created_at": backup.manifest.get("created_at") if backup else None,
        "item_count": backup.item_count if backup else None,
        "ok": entry.problem is None,
        "problem": entry.problem,
        "ledger": bool(backup and ledger_exists(backup.store, backup.name_for(LEDGER_SUFFIX))),
        "file": backup.data_uri if backup else entry.location,
    }
