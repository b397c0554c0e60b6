"""Backup and restore throughput: ``create_backup`` alone, and ``run_restore`` after a migration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backfill.backup import create_backup
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
    from backfill.target import Target

    result = run_restore(
        Target(settings, _session=session), RestoreOptions(backup_file=manifest, backup_dir=directory)
    )
    counts = result.counts()
    return len(result.outcomes), {"outcomes": counts, "ok": result.ok}
