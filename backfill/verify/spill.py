"""The snapshot side of verify, on disk: item name -> backed-up item and the status the migration
wrote, in a temporary SQLite file (``backfill.run.spill``), so verify's memory does not grow with the
table (the table is streamed past it page by page, and every snapshot row not seen is found with
one query)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from backfill.run.spill import SpillFile, dump_typed, load_typed
from chalicelib.items import to_python
from chalicelib.schema import active_schema


class SnapshotIndex(SpillFile):
    def __init__(self) -> None:
        super().__init__("verify-snapshot-",
                         "CREATE TABLE snapshot (id TEXT PRIMARY KEY, item TEXT, status TEXT, seen INTEGER DEFAULT 0)")
        self.count = 0

    def add_items(self, typed_items: Iterator[dict[str, Any]]) -> None:
        """Backed-up items (typed, as the backup holds them); stored as the backup's own JSON."""
        with self.transaction() as db:
            for typed in typed_items:
                db.execute(
                    "INSERT INTO snapshot (id, item) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET item = excluded.item",
                    (str(active_schema().key.name_of_typed(typed)), dump_typed(typed)),
                )
                self.count += 1

    def add_statuses(self, statuses: dict[str, Any]) -> None:
        """The status the migration last wrote to each item (from its ledger)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO snapshot (id, status) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status",
                ((item_name, json.dumps(status, default=str)) for item_name, status in statuses.items()),
            )

    def see(self, item_name: str) -> tuple[dict[str, Any] | None, Any]:
        """(snapshot item as plain values or None, migration status or None); marks it seen."""
        row = self.db.execute("SELECT item, status FROM snapshot WHERE id = ?", (item_name,)).fetchone()
        if row is None:
            return None, None
        self.db.execute("UPDATE snapshot SET seen = 1 WHERE id = ?", (item_name,))
        item = to_python(load_typed(row[0])) if row[0] is not None else None
        return item, json.loads(row[1]) if row[1] is not None else None

    def unseen(self) -> list[str]:
        """Snapshot items the table scan never showed (missing since the snapshot)."""
        return [r[0] for r in self.db.execute("SELECT id FROM snapshot WHERE item IS NOT NULL AND seen = 0 ORDER BY id")]

    def __enter__(self) -> SnapshotIndex:
        return self
