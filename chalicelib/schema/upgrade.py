"""``upgrade_event``: the one upgrade rule, applied step by step up to CURRENT_VERSION."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.schema.errors import UpgradeRefused
from chalicelib.schema.fields import CURRENT_VERSION, OWNED_FIELDS
from chalicelib.schema.steps import STEPS, UpgradeContext
from chalicelib.schema.validate import validate_event
from chalicelib.schema.values import as_count, same_typed

_MISSING = object()


def event_key(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"eventId": item.get("eventId")}


def schema_version(item: Mapping[str, Any]) -> int:
    """The item's declared version (1 when absent). Raises UpgradeRefused when garbled."""
    raw = item.get("schemaVersion", 1)
    version = as_count(raw)
    if version is None or version < 1:
        raise UpgradeRefused(item.get("eventId"), [f"schemaVersion is not a positive integer: {raw!r}"])
    if version > CURRENT_VERSION:
        raise UpgradeRefused(
            item.get("eventId"),
            [f"schemaVersion {version} is newer than this code knows ({CURRENT_VERSION})"],
        )
    return version


def upgrade_event(
    item: Mapping[str, Any],
    *,
    participant_count: int | None = None,
    observed_at_ms: int | None = None,
) -> dict[str, Any]:
    """Return ``item`` upgraded to the current schema. Pure, deterministic and idempotent.

    Only owned fields (see ``OWNED_FIELDS``) are added or changed; every other attribute is
    returned untouched. An item already at the current version gets the last step again as a
    repair pass (an old writer may have put a legacy status back); on a valid item that is a no-op.

    Raises UpgradeRefused (with every reason) when the item cannot be upgraded without guessing,
    and ValueError when the item has no participantCount and none is given.
    """
    event_id = item.get("eventId")
    if not isinstance(event_id, str) or not event_id:
        raise UpgradeRefused(event_id, [f"eventId is not a non-empty string: {event_id!r}"])
    version = schema_version(item)
    ctx = UpgradeContext(participant_count=participant_count, observed_at_ms=observed_at_ms)
    current: dict[str, Any] = dict(item)
    first = version if version < CURRENT_VERSION else CURRENT_VERSION - 1
    for step in STEPS:
        if step.from_version < first:
            continue
        problems: list[str] = []
        current = step.apply(current, ctx, problems)
        if problems:
            raise UpgradeRefused(event_id, problems)
    remaining = validate_event(current)
    if remaining:
        raise UpgradeRefused(event_id, remaining)
    return current


def needs_upgrade(item: Mapping[str, Any]) -> bool:
    """True when the item is not a valid current-version event (so an upgrade would change it)."""
    return bool(validate_event(item))


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: frozenset[str] = OWNED_FIELDS
) -> dict[str, Any]:
    """``fields`` (owned ones by default) whose value differs between ``before`` and ``after``."""
    return {
        field: after[field]
        for field in sorted(fields)
        if field in after and (field not in before or not same_typed(before[field], after[field]))
    }

