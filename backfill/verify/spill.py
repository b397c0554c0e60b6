"""The snapshot side of verify, on disk: eventId -> backed-up item and the status the migration
wrote, in a temporary SQLite file, so verify's memory does not grow with the table (the table is
streamed past it page by page, and every snapshot row not seen is found with one query)."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backfill.backup import decode_item, encode_item
from chalicelib.items import to_python


class SnapshotIndex:
    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="verify-snapshot-")
        self._db = sqlite3.connect(Path(self._directory.name) / "snapshot.sqlite", isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE snapshot (id TEXT PRIMARY KEY, item TEXT, status TEXT, seen INTEGER DEFAULT 0)")
        self.count = 0

    def add_items(self, typed_items: Iterator[dict[str, Any]]) -> None:
        """Backed-up items (typed, as the backup holds them); stored as the backup's own JSON."""
        self._db.execute("BEGIN")
        for typed in typed_items:
            self._db.execute(
                "INSERT INTO snapshot (id, item) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET item = excluded.item",
                (typed["eventId"]["S"], json.dumps(encode_item(typed))),
            )
            self.count += 1
        self._db.execute("COMMIT")

    def add_statuses(self, statuses: dict[str, Any]) -> None:
        """The status the migration last wrote to each event (from its ledger)."""
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT INTO snapshot (id, status) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status",
            ((event_id, json.dumps(status, default=str)) for event_id, status in statuses.items()),
        )
        self._db.execute("COMMIT")

    def see(self, event_id: str) -> tuple[dict[str, Any] | None, Any]:
        """(snapshot item as plain values or None, migration status or None); marks it seen."""
        row = self._db.execute("SELECT item, status FROM snapshot WHERE id = ?", (event_id,)).fetchone()
        if row is None:
            return None, None
        self._db.execute("UPDATE snapshot SET seen = 1 WHERE id = ?", (event_id,))
        item = to_python(decode_item(json.loads(row[0]))) if row[0] is not None else None
        return item, json.loads(row[1]) if row[1] is not None else None

    def unseen(self) -> list[str]:
        """Snapshot items the table scan never showed (missing since the snapshot)."""
        return [r[0] for r in self._db.execute("SELECT id FROM snapshot WHERE item IS NOT NULL AND seen = 0 ORDER BY id")]

    def close(self) -> None:
        self._db.close()
        self._directory.cleanup()

    def __enter__(self) -> SnapshotIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
