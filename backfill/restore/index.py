"""Restore's state on disk (a ``backfill.run.spill.SpillFile``): the backed-up items, the ledgers'
write attempts, the live items the scan showed, the decision on each item and its outcome.

Planning streams the backup(s) and their ledgers in, then the live table past them page by page;
executing reads the decided items back in item-name order, a chunk at a time. So restore's memory
holds a scan page and a bounded number of items in flight, whatever the table's size.

One row per item (its name) in ``item``: ``part`` is the backup it came from (its ledger explains it),
``backup``/``live`` the typed items as JSON (None: not backed up / not seen live), ``action`` the
plan (``Action`` value), ``outcome`` what executing it did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from backfill.restore.plan import Action, ItemPlan, MigrationWrite
from backfill.run.ledger import ledger_entry
from backfill.run.spill import SpillFile, dump_typed, load_typed
from chalicelib.schema import active_schema

SCHEMA = """
CREATE TABLE item (
    id TEXT PRIMARY KEY, part INTEGER, backup TEXT, live TEXT,
    action TEXT, note TEXT, differences TEXT,
    outcome TEXT, reason TEXT, outcome_differences TEXT
);
CREATE TABLE ledger (part INTEGER, id TEXT, seq INTEGER, record TEXT);
CREATE INDEX ledger_by_item ON ledger (part, id, seq);
"""
CHUNK = 500  # rows read back at a time


@dataclass(frozen=True)
class Row:
    """One item as stored: what restoring it needs (typed items, exactly as read)."""

    item_name: str
    part: int | None
    backup: dict[str, Any] | None
    live: dict[str, Any] | None
    plan: ItemPlan | None  # as decided (without the fields to set: ``classify`` again for those)


@dataclass(frozen=True)
class ItemOutcome:
    item_name: str
    outcome: str  # restored|unchanged|conflict_skipped|deleted_skipped|overwritten|recreated|new_kept|new_deleted|gone|failed
    reason: str = ""
    differences: dict[str, str] = field(default_factory=dict)


class RestoreIndex(SpillFile):
    def __init__(self) -> None:
        super().__init__("restore-", SCHEMA)
        self._seq = 0

    # --- planning --------------------------------------------------------------------------------

    def add_backup(self, part: int, typed_items: Iterable[dict[str, Any]]) -> int:
        """Backed-up items of backup number ``part``; returns how many. A later backup's copy of an
        item replaces an earlier one (segments are disjoint, so this does not happen in a run)."""
        count = 0
        with self.transaction() as db:
            for typed in typed_items:
                db.execute("INSERT INTO item (id, part, backup) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE "
                           "SET part = excluded.part, backup = excluded.backup",
                           (str(active_schema().key.name_of_typed(typed)), part, dump_typed(typed)))
                count += 1
        return count

    def add_ledger(self, part: int, lines: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """The write attempts of backup ``part``'s ledger: (item name, line as stored), in order."""
        with self.transaction() as db:
            for item_name, record in lines:
                self._seq += 1
                db.execute("INSERT INTO ledger (part, id, seq, record) VALUES (?, ?, ?, ?)",
                           (part, item_name, self._seq, json.dumps(record, separators=(",", ":"))))

    def writes(self, part: int, item_name: str) -> list[MigrationWrite]:
        """The migration's write attempts on ``item_name`` in backup ``part``'s ledger, oldest first."""
        rows = self.db.execute("SELECT record FROM ledger WHERE part = ? AND id = ? ORDER BY seq", (part, item_name))
        return [MigrationWrite(entry.changes, entry.read, entry.removed) for entry in (ledger_entry(json.loads(r[0])) for r in rows)]

    def backup_of(self, item_name: str) -> tuple[int | None, dict[str, Any] | None]:
        row = self.db.execute("SELECT part, backup FROM item WHERE id = ?", (item_name,)).fetchone()
        if row is None or row[1] is None:
            return None, None
        return row[0], load_typed(row[1])

    def decide(self, decisions: Iterable[tuple[dict[str, Any] | None, ItemPlan]]) -> None:
        """Store (live typed item or None, plan) for each item decided."""
        with self.transaction() as db:
            for live, plan in decisions:
                db.execute(
                    "INSERT INTO item (id, live, action, note, differences) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) "
                    "DO UPDATE SET live = excluded.live, action = excluded.action, note = excluded.note, "
                    "differences = excluded.differences",
                    (plan.item_name, dump_typed(live) if live is not None else None, plan.action.value, plan.note,
                     json.dumps(plan.differences) if plan.differences else None),
                )

    def undecided(self) -> Iterator[Row]:
        """Backed-up items the live scan never showed (deleted since the backup)."""
        return self._rows("action IS NULL AND backup IS NOT NULL")

    def decided(self, actions: Iterable[Action] | None = None, limit: int | None = None) -> Iterator[Row]:
        """Decided items in item-name order (of ``actions`` only, when given), read a chunk at a time."""
        where = "action IS NOT NULL"
        if actions is not None:
            where = "action IN ({})".format(", ".join(f"'{a.value}'" for a in actions))
        return self._rows(where, limit)

    def _rows(self, where: str, limit: int | None = None) -> Iterator[Row]:
        """Keyset pages: no statement stays open between chunks, so the caller may write meanwhile."""
        after, left = "", limit
        while left is None or left > 0:
            size = CHUNK if left is None else min(CHUNK, left)
            rows = self.db.execute(
                f"SELECT id, part, backup, live, action, note, differences FROM item WHERE id > ? AND ({where}) "
                "ORDER BY id LIMIT ?", (after, size)).fetchall()
            for item_name, part, backup, live, action, note, differences in rows:
                plan = None if action is None else ItemPlan(
                    item_name, Action(action), json.loads(differences) if differences else {}, note=note or "")
                yield Row(item_name, part, load_typed(backup) if backup is not None else None,
                          load_typed(live) if live is not None else None, plan)
            if len(rows) < size:
                return
            after = rows[-1][0]
            if left is not None:
                left -= len(rows)

    # --- outcomes --------------------------------------------------------------------------------

    def record_outcomes(self, outcomes: Iterable[ItemOutcome]) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE item SET outcome = ?, reason = ?, outcome_differences = ? WHERE id = ?",
                           ((o.outcome, o.reason, json.dumps(o.differences) if o.differences else None, o.item_name)
                            for o in outcomes))

    def outcomes(self, kinds: Iterable[str] | None = None, exclude: Iterable[str] = ()) -> Iterator[ItemOutcome]:
        """Recorded outcomes by (outcome, item name) (of ``kinds`` only, when given)."""
        query = "SELECT id, outcome, reason, outcome_differences FROM item WHERE outcome IS NOT NULL"
        parameters: list[str] = []
        if kinds is not None:
            kinds = list(kinds)
            query += " AND outcome IN ({})".format(", ".join("?" * len(kinds)))
            parameters += kinds
        exclude = list(exclude)
        if exclude:
            query += " AND outcome NOT IN ({})".format(", ".join("?" * len(exclude)))
            parameters += exclude
        for item_name, outcome, reason, differences in self.db.execute(query + " ORDER BY outcome, id", parameters):
            yield ItemOutcome(item_name, outcome, reason or "", json.loads(differences) if differences else {})
