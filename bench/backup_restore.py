"""Backup and restore throughput: ``create_backup`` alone, and ``run_restore`` after a migration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backfill.table.backup import create_backup
from chalicelib.aws import client
from chalicelib.config import Settings

DEFAULT_SEGMENTS = 4  # what migrate uses for its backup


def run_backup(session: Any, settings: Settings, table: str, directory: Path) -> tuple[int, dict[str, Any]]:
    dynamodb = client(session, "dynamodb", settings)
    backup = create_backup(
        dynamodb, table, directory, region=settings.region, endpoint=settings.endpoint_url or "",
        total_segments=DEFAULT_SEGMENTS,
    )
    return backup.item_count, {"table": table, "segments": DEFAULT_SEGMENTS,
                               "bytes": backup.data_path.stat().st_size}


def run_restore_of(session: Any, settings: Settings, manifest: Path, directory: Path) -> tuple[int, dict[str, Any]]:
    """Restore the events table to ``manifest`` (the backup the migration just took)."""
    from backfill.restore import RestoreOptions, run_restore  # lands with the restore work
    from backfill.table.target import Target

    result = run_restore(
        Target(settings, _session=session), RestoreOptions(backup_file=manifest, backup_dir=directory)
    )
    counts = result.counts()
    return sum(counts.values()), {"outcomes": counts, "ok": result.ok}


def run_bulk_restore(
    session: Any, watch: Any, settings: Settings, manifest: Path, table: str
) -> tuple[int, dict[str, Any]]:
    """``restore FILE --to-table NAME``: the backup into a new, empty table (created unmeasured,
    as the dump tool's figure is for restoring into an empty table)."""
    from backfill.restore.bulk import DEFAULT_WORKERS, bulk_restore, table_definition
    from backfill.run.backup import load_backup, verify_backup

    backup = load_backup(manifest)
    dynamodb = client(session, "dynamodb", settings)
    with watch.paused():
        dynamodb.create_table(**table_definition(backup, table))
        dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    verify_backup(backup)  # the CLI checks the backup first; part of the measured work
    result = bulk_restore(dynamodb, backup, table)
    return result.items, {"outcomes": {"written": result.items, "unprocessed resent": result.unprocessed_resent,
                                       "requests": result.requests, "workers": DEFAULT_WORKERS}, "ok": result.ok}
