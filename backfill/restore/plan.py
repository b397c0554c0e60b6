"""Pure restore planning: what to do with one backed-up item given the live item.

The rule (plain items in, a decision out):
- live item identical to the backup                          -> UNCHANGED, nothing to write;
- live item still exactly as the migration left it           -> RESTORE: revert the owned fields
  (every unowned attribute equals the backup's, every owned field equals backup + what the
  migration wrote, taken from its ledger). ``participantCount`` and ``countVersion`` are left
  out of that comparison: they are derived data the count mechanism keeps moving, and the
  restore puts them back to the backup's values anyway, so a moved count is not a conflict;
- anything else                                              -> CONFLICT (a live writer changed
  the item since the migration), listed with the differing attributes, skipped unless --force;
- live item gone                                             -> DELETED since the backup: a
  conflict as well (someone deleted it on purpose, or not), recreated only with --force;
- live item not in the backup                                -> NEW, deleted only with --delete-new.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backfill.verify.compare import describe_differences, differing_attributes, same_typed
from chalicelib.schema import COUNT_VERSION, UpgradeRefused, active_schema
from chalicelib.schema.upgrade import changed_fields, upgrade_event

DERIVED_FIELDS: frozenset[str] = frozenset({"participantCount", COUNT_VERSION})


class Action(str, enum.Enum):
    UNCHANGED = "unchanged"
    RESTORE = "restore"
    CONFLICT = "conflict"
    DELETED = "deleted_since_backup"
    NEW = "created_after_backup"


@dataclass(frozen=True)
class ItemPlan:
    event_id: str
    action: Action
    differences: dict[str, str] = field(default_factory=dict)  # attribute -> changed|removed|added
    set_fields: tuple[str, ...] = ()  # owned fields to put back to the backup's value
    remove_fields: tuple[str, ...] = ()  # owned fields the backup did not have

    @property
    def reason(self) -> str:
        if self.action is Action.DELETED:
            return "deleted since the backup"
        if self.action is Action.NEW:
            return "created after the backup"
        if self.action is Action.CONFLICT:
            return f"changed since the migration wrote it: {describe_differences(self.differences)}"
        return self.action.value


def writes_by_rule(backup_item: Mapping[str, Any]) -> dict[str, Any]:
    """What the backfill would have written to ``backup_item`` (used when a run left no ledger).

    The count is left out (derived), so any placeholder count does."""
    try:
        after = upgrade_event(backup_item, participant_count=0)
    except (UpgradeRefused, ValueError):
        return {}
    return {k: v for k, v in changed_fields(backup_item, after).items() if k not in DERIVED_FIELDS}


def classify(
    backup_item: Mapping[str, Any] | None,
    live_item: Mapping[str, Any] | None,
    migration_writes: Mapping[str, Any],
) -> ItemPlan:
    """Decide what restoring ``backup_item`` over ``live_item`` means (see the module rule)."""
    if backup_item is None:
        if live_item is None:
            raise ValueError("nothing to classify: neither a backed-up nor a live item")
        return ItemPlan(str(live_item.get("eventId")), Action.NEW)
    event_id = str(backup_item.get("eventId"))
    if live_item is None:
        return ItemPlan(event_id, Action.DELETED)
    if not differing_attributes(backup_item, live_item):
        return ItemPlan(event_id, Action.UNCHANGED)
    owned = active_schema().owned
    as_migrated = {**backup_item, **migration_writes}
    differences = {
        **differing_attributes(backup_item, live_item, ignore=owned),
        **differing_attributes(as_migrated, live_item, only=owned - DERIVED_FIELDS),
    }
    if differences:
        return ItemPlan(event_id, Action.CONFLICT, dict(sorted(differences.items())))
    set_fields = tuple(
        f for f in sorted(owned)
        if f in backup_item and not (f in live_item and same_typed(live_item[f], backup_item[f]))
    )
    remove_fields = tuple(f for f in sorted(owned) if f in live_item and f not in backup_item)
    return ItemPlan(event_id, Action.RESTORE, set_fields=set_fields, remove_fields=remove_fields)
