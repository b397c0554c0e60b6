"""Whether a table stands rolled back, read from the run store: the live path must not undo it.

A restore in place writes the backed-up (older-shape) images back. A live path of the restored
declaration would see those writes on the stream and upgrade every restored item again, undoing
the rollback silently. So after a completed restore of a table, and until a migration of that
table starts again, the live path of the declaration is refused: the local runner
(``backfill streams``) and resuming the deployed mappings (``backfill live resume``) check here
first. A migration that backs the table up after the restore finished lifts it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from backfill.run.backup import read_json
from backfill.run.names import MANIFEST_SUFFIX, RESTORE_REPORT_SUFFIX
from backfill.run.store import RunStore, StoreError


@dataclass(frozen=True)
class Rollback:
    run: str  # the backup (run) that was restored
    table: str
    finished_at_ms: int

    def describe(self) -> str:
        finished = datetime.fromtimestamp(self.finished_at_ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"table {self.table!r} was rolled back by restoring run {self.run} (finished {finished})"


def standing_rollback(store: RunStore, table: str) -> Rollback | None:
    """The newest completed restore of ``table`` that no later migration's backup follows, if any."""
    restores: list[Rollback] = []
    migrations_since: list[int] = []
    for name in store.names(MANIFEST_SUFFIX):
        manifest = _read(store, name)
        if manifest is None or manifest.get("table") != table:
            continue
        stem = name.removesuffix(MANIFEST_SUFFIX)
        migrations_since.append(int(manifest.get("created_at_ms", 0)))
        if store.exists(stem + RESTORE_REPORT_SUFFIX):
            restores.append(_restore(store, stem, table))
    if not restores:
        return None
    newest = max(restores, key=lambda rollback: rollback.finished_at_ms)
    if any(created > newest.finished_at_ms for created in migrations_since):
        return None  # a migration backed the table up after the rollback: the declaration is live again
    return newest


def _restore(store: RunStore, stem: str, table: str) -> Rollback:
    """A restore report read strictly: one that cannot be read must not let the live path run."""
    name = stem + RESTORE_REPORT_SUFFIX
    report = _read(store, name)
    finished = report.get("finished_at_ms") if report is not None else None
    if not isinstance(finished, int):
        raise StoreError(f"{store.uri(name)}: a restore report without its finish time (damaged, or written by an "
                         f"older version): whether table {table!r} stands rolled back cannot be told")
    return Rollback(stem, table, finished)


def _read(store: RunStore, name: str) -> dict[str, Any] | None:
    try:
        value = read_json(store, name)
    except (StoreError, OSError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
