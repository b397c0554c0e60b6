"""Pure restore planning: what to do with one backed-up item given the live item.

Restore undoes exactly what the migration wrote, and nothing more. The migration's ledger has,
for every write attempt, the item as read (the state the write was computed from and conditioned
on) and the owned fields it set. The rule (plain items in, a decision out):
- live item identical to the backup                          -> UNCHANGED, nothing to write;
- live item exactly as one of the migration's writes left it (its ``read`` + its ``changes``, less
  what it removed; the last such attempt counts)              -> RESTORE: the fields that write set
  go back to their value in ``read`` (removed when ``read`` did not have them), and the fields it
  removed are put back with their value in ``read``. So an application's
  change made after the backup but before the migration's write survives: it is in ``read``.
  the declaration's aggregate values and their version attributes are left out of the comparison:
  they are derived data the aggregate mechanism keeps moving, so a moved count is not a conflict;
- anything else                                              -> CONFLICT (changed since the
  migration's write, or changed since the backup by someone while the migration wrote nothing
  that landed), listed with the differing attributes, skipped unless --force;
- live item gone                                             -> DELETED since the backup: a
  conflict as well (someone deleted it on purpose, or not), recreated only with --force;
- live item not in the backup                                -> NEW, deleted only with --delete-new.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backfill.table.compare import describe_differences, differing_attributes, same_typed
from chalicelib.planner import Verdict, plan_upgrade, unmaintained
from chalicelib.schema import UpgradeRefused, active_schema


class Action(str, enum.Enum):
    UNCHANGED = "unchanged"
    RESTORE = "restore"
    CONFLICT = "conflict"
    DELETED = "deleted_since_backup"
    NEW = "created_after_backup"


@dataclass(frozen=True)
class MigrationWrite:
    """One write attempt of the migration (from its ledger): owned fields set (and removed) over ``read``."""

    changes: Mapping[str, Any]
    read: Mapping[str, Any]
    removes: tuple[str, ...] = ()

    @property
    def left(self) -> dict[str, Any]:
        """The item as this write left it."""
        written = {**self.read, **self.changes}
        return {name: value for name, value in written.items() if name not in self.removes}


@dataclass(frozen=True)
class ItemPlan:
    item_name: str
    action: Action
    differences: dict[str, str] = field(default_factory=dict)  # attribute -> changed|removed|added
    sets: dict[str, Any] = field(default_factory=dict)  # owned fields to put back, with their value
    remove_fields: tuple[str, ...] = ()  # owned fields the migration added
    note: str = ""  # why a conflict is one, when not simply "changed since the migration"

    @property
    def set_fields(self) -> tuple[str, ...]:
        return tuple(sorted(self.sets))

    @property
    def reason(self) -> str:
        if self.action is Action.DELETED:
            return "deleted since the backup"
        if self.action is Action.NEW:
            return "created after the backup"
        if self.action is Action.CONFLICT:
            return f"{self.note or 'changed since the migration wrote it'}: {describe_differences(self.differences)}"
        return self.action.value


def writes_by_rule(backup_item: Mapping[str, Any]) -> list[MigrationWrite]:
    """What the backfill would have written over ``backup_item`` (used when a run left no ledger).

    Derived count fields are left out of restore's comparison, so a placeholder count does."""
    try:
        plan = plan_upgrade(backup_item, aggregates={a.name: 0 for a in unmaintained(backup_item)})
    except (UpgradeRefused, ValueError, KeyError):
        return []
    return [MigrationWrite(plan.changes, backup_item, plan.removes)] if plan.verdict is Verdict.WRITE else []


def classify(
    backup_item: Mapping[str, Any] | None,
    live_item: Mapping[str, Any] | None,
    writes: Sequence[MigrationWrite],
) -> ItemPlan:
    """Decide what restoring ``backup_item`` over ``live_item`` means (see the module rule).

    ``writes``: the migration's write attempts on this item, oldest first."""
    if backup_item is None:
        if live_item is None:
            raise ValueError("nothing to classify: neither a backed-up nor a live item")
        return ItemPlan(str(active_schema().key.describe(live_item)), Action.NEW)
    item_name = str(active_schema().key.describe(backup_item))
    if live_item is None:
        return ItemPlan(item_name, Action.DELETED)
    if not differing_attributes(backup_item, live_item):
        return ItemPlan(item_name, Action.UNCHANGED)
    for write in reversed(writes):
        if not differing_attributes(write.left, live_item, ignore=active_schema().aggregate_fields):
            return _revert(item_name, write, live_item)
    differences = differing_attributes(backup_item, live_item, ignore=active_schema().aggregate_fields)
    if not differences:
        return ItemPlan(item_name, Action.UNCHANGED)  # only the count moved: nothing of ours to undo
    if any(not differing_attributes(w.read, live_item, ignore=active_schema().aggregate_fields) for w in writes):
        note = "changed since the backup, before the migration's write, which did not land"
        return ItemPlan(item_name, Action.CONFLICT, differences, note=note)
    if writes:
        expected = writes[-1].left
        return ItemPlan(item_name, Action.CONFLICT, differing_attributes(expected, live_item, ignore=active_schema().aggregate_fields))
    return ItemPlan(item_name, Action.CONFLICT, differences,
                    note="changed since the backup (the migration did not write it)")


def _revert(item_name: str, write: MigrationWrite, live: Mapping[str, Any]) -> ItemPlan:
    """Put every field the write set or removed back to its value in ``read`` (remove it where
    read had none)."""
    read, touched = write.read, sorted({*write.changes, *write.removes})
    sets = {f: read[f] for f in touched if f in read and not (f in live and same_typed(live[f], read[f]))}
    # A count a membership mirror took over goes back with its marker: a marked item without its
    # count would be ADDed to from nothing; an unmarked one is recounted and handed over again.
    markers = [a.mirror.marker for a in active_schema().aggregates if a.mirror is not None and a.name in write.changes]
    removes = tuple(f for f in sorted({*touched, *markers}) if f not in read and f in live)
    if not sets and not removes:
        return ItemPlan(item_name, Action.UNCHANGED)
    return ItemPlan(item_name, Action.RESTORE, sets=sets, remove_fields=removes)
