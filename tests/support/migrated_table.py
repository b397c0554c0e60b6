"""A migrated table for verify/restore tests, made exactly as ``backfill migrate`` makes one:
backup first, counts from one parallel scan, then ``upgrade_in_place`` with the ledger recording
every write before it is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backfill.run.backup import Backup, iter_backup_items
from backfill.run.ledger import LEDGER_SUFFIX, Ledger
from backfill.table.aggregate_counts import count_groups
from backfill.table.backup import create_backup
from chalicelib.config import Settings
from chalicelib.item_store import ItemStore
from chalicelib.items import to_python
from chalicelib.upgrader import keep_maintained_count, upgrade_in_place


def migrate_like_backfill(dynamodb: Any, settings: Settings, backup_dir: Path, *, total_segments: int = 2) -> Backup:
    backup = create_backup(dynamodb, settings.table("events"), backup_dir, region=settings.region,
                           endpoint=dynamodb.meta.endpoint_url, total_segments=total_segments)
    counts = count_groups(dynamodb, settings.table("participants"), total_segments)
    store = ItemStore(dynamodb, settings.table("events"))
    source = keep_maintained_count(lambda event_id: counts.get(event_id, 0))
    with Ledger(backup.store, backup.name_for(LEDGER_SUFFIX)) as ledger:
        for _segment, typed in iter_backup_items(backup):
            upgrade_in_place(store, to_python(typed), count_source=source,
                             announce=lambda plan: ledger.record(plan.item_name, plan.changes, plan.before))
    return backup
