"""``backfill backups``: list the backups with table, time, item count and checksum state;
``backfill backups prune``: delete old runs by the rule in ``backfill.run.prune``."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from backfill.cli.options import (
    backup_dir_option,
    json_option,
    require_own_store,
    store_endpoint_option,
)
from backfill.console import err, print_json
from backfill.errors import BadInput
from backfill.run.backup import BackupError, BackupListing, list_backups
from backfill.run.ledger import LEDGER_SUFFIX, ledger_exists
from backfill.run.prune import Decision, plan_prune, prune
from backfill.run.runs import runs_in
from backfill.run.store import RunStore, open_store
from backfill.table.target import DEFAULT_CONNECT_TIMEOUT

MAX_DAYS = 36_500


@click.group("backups", invoke_without_command=True, short_help="List the backups, newest first.")
@click.option("--table", help="Only backups of this table.")
@backup_dir_option
@store_endpoint_option
@json_option
@click.pass_context
def command(ctx: click.Context, table: str | None, backup_dir: str, endpoint_url: str | None, as_json: bool) -> None:
    """List backups (newest first); every data file is checked against its manifest's sha256.

    Each backup names its run and what part of the table the run's backups cover together: a
    split run is usable by verify and restore only once every segment has its backup.
    `backfill backups prune` deletes old runs."""
    if ctx.invoked_subcommand is not None:
        return
    require_own_store(backup_dir)
    store = open_store(backup_dir, endpoint_url=endpoint_url, connect_timeout=DEFAULT_CONNECT_TIMEOUT)
    try:
        listings = list_backups(store, table, check=True)
    except BackupError as error:
        raise BadInput(f"cannot list backups: {error}") from error
    coverage = run_coverage(store, table)
    rows = [describe(entry, coverage) for entry in listings]
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
        name = str(row["run_id"] or row["file"])
        if row["run"] and row["run"] != row["run_id"]:
            name += f"\n of run {row['run']}"
        if row["run"] and not row["run_complete"]:
            name += f"\n [yellow]run covers {row['run_covers']}[/]"
        listing.add_row(name, str(row["table"]), created,
                        str(row["item_count"]), state, "yes" if row["ledger"] else "-")
    err.print(listing)


def run_coverage(store: RunStore, table: str | None) -> dict[tuple[str, str], tuple[bool, str]]:
    """(table, run) -> (complete, what its backups cover)."""
    try:
        return {(run.table, run.name): (run.complete, run.coverage()) for run in runs_in(store, table)}
    except BackupError as error:  # an inconsistent run: say so on every row instead of failing the listing
        return {("*", "*"): (False, str(error))}


def describe(entry: BackupListing, coverage: dict[tuple[str, str], tuple[bool, str]]) -> dict[str, Any]:
    backup = entry.backup
    complete, covers = coverage.get((backup.table, backup.run), coverage.get(("*", "*"), (False, "-"))) \
        if backup else (False, "-")
    return {
        "run_id": backup.run_id if backup else None,
        "run": backup.run if backup else None,
        "run_complete": complete,
        "run_covers": covers,
        "table": backup.table if backup else None,
        "created_at": backup.manifest.get("created_at") if backup else None,
        "item_count": backup.item_count if backup else None,
        "ok": entry.problem is None,
        "problem": entry.problem,
        "ledger": bool(backup and ledger_exists(backup.store, backup.name_for(LEDGER_SUFFIX))),
        "file": backup.data_uri if backup else entry.location,
    }


@command.command("prune", short_help="Delete old runs, keeping the newest.")
@click.option("--older-than", "older_than", metavar="DAYS", required=True, type=click.IntRange(0, MAX_DAYS),
              help="Delete runs whose newest backup is older than this many days (unless the rule keeps them).")
@click.option("--table", help="Only runs of this table.")
@backup_dir_option
@store_endpoint_option
@click.option("--yes", "-y", is_flag=True, help="Delete them (without it: a dry run listing what would go).")
@json_option
def prune_command(older_than: int, table: str | None, backup_dir: str, endpoint_url: str | None, yes: bool,
                  as_json: bool) -> None:
    """Delete old runs: every file of a run (backups, manifests, ledgers, checkpoints, reports).

    A dry run unless --yes. Whatever its age, a run is kept when it is its table's newest
    complete run, its table's newest run that wrote (has a ledger: its restore undoes the last
    migration), or unfinished (a checkpoint not completed)."""
    require_own_store(backup_dir)
    store = open_store(backup_dir, endpoint_url=endpoint_url, connect_timeout=DEFAULT_CONNECT_TIMEOUT)
    try:
        decisions = plan_prune(store, older_than, table)
    except BackupError as error:
        raise BadInput(f"cannot prune: {error}") from error
    doomed = [d for d in decisions if d.delete]
    if yes:
        for decision in doomed:
            prune(store, decision)
    if as_json:
        print_json([{**_prune_row(d), "deleted": yes and d.delete} for d in decisions])
        return
    listing = Table(title=f"runs in {backup_dir} older than {older_than} days", title_justify="left")
    for column in ("run", "table", "age (days)", "files", "decision"):
        listing.add_column(column)
    for decision in decisions:
        verdict = (("[red]deleted[/]" if yes else "[yellow]would delete[/]") if decision.delete
                   else "kept: " + ", ".join(decision.keep))
        listing.add_row(decision.run.name, decision.run.table, f"{decision.age_days:.1f}",
                        str(len(decision.files)), verdict)
    err.print(listing)
    files = sum(len(d.files) for d in doomed)
    if yes:
        err.print(f"Deleted {len(doomed)} run(s), {files} file(s) and their ledgers.")
    else:
        err.print(f"Dry run: nothing deleted. {len(doomed)} run(s), {files} file(s) and their ledgers would go; "
                  "add --yes to delete them.")


def _prune_row(decision: Decision) -> dict[str, Any]:
    return {"run": decision.run.name, "table": decision.run.table, "age_days": round(decision.age_days, 3),
            "complete": decision.run.complete, "files": list(decision.files), "keep": list(decision.keep)}
