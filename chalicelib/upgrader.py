"""Upgrade one stored event in place: read, upgrade, conditional write, re-read on conflict.

Shared by the backfill (counts from its parallel scan) and the events stream handler (counts
from a consistent query), so both resolve races with the application the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.counts import next_count_version
from chalicelib.events_store import EventStore, expected_state
from chalicelib.schema import COUNT_VERSION, OWNED_FIELDS, UpgradeRefused
from chalicelib.schema.fields import INPUT_FIELDS
from chalicelib.schema.upgrade import changed_fields, needs_upgrade, upgrade_event

# Given the item as read, the participant count to write, or None to keep the item's own.
CountSource = Callable[[Mapping[str, Any]], "int | None"]

MAX_ATTEMPTS = 5


class UpgradeResult(enum.Enum):
    UPGRADED = "upgraded"
    CURRENT = "current"  # already in the current shape: nothing written
    REFUSED = "refused"  # the rule cannot upgrade it; reasons say why
    GONE = "gone"  # deleted between read and write
    CONTENDED = "contended"  # kept changing under us for MAX_ATTEMPTS tries


@dataclass
class UpgradeOutcome:
    result: UpgradeResult
    event_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reasons: list[str] = field(default_factory=list)
    attempts: int = 0


def upgrade_in_place(
    events: EventStore,
    item: Mapping[str, Any],
    *,
    count_source: CountSource,
    observed_at_ms: int | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    before_write: Callable[[str, Mapping[str, Any], Mapping[str, Any]], None] | None = None,
) -> UpgradeOutcome:
    """Upgrade the stored event whose last known state is ``item``.

    The write SETs only changed owned fields, conditioned on every owned and input field being
    as read; on a conflict the item is re-read and the upgrade recomputed from fresh data.
    ``before_write(event_id, changes, read)`` is called before each write attempt with the item
    as read, which the write is conditioned on (the backfill's ledger records both there, so a
    crash can never hide a write from restore, and restore can revert to exactly ``read``).
    """
    event_id = item.get("eventId")
    current: dict[str, Any] | None = dict(item)
    for attempt in range(1, max_attempts + 1):
        if current is None:
            return UpgradeOutcome(UpgradeResult.GONE, event_id, attempts=attempt)
        if not needs_upgrade(current):
            return UpgradeOutcome(UpgradeResult.CURRENT, event_id, current, current, attempts=attempt)
        try:
            after = upgrade_event(
                current, participant_count=count_source(current), observed_at_ms=observed_at_ms
            )
        except UpgradeRefused as refused:
            return UpgradeOutcome(
                UpgradeResult.REFUSED, event_id, current, reasons=refused.reasons, attempts=attempt
            )
        changes = changed_fields(current, after)
        if "participantCount" in changes:
            changes[COUNT_VERSION] = after[COUNT_VERSION] = next_count_version(current)
        expected = expected_state(current, OWNED_FIELDS | INPUT_FIELDS)
        if before_write is not None:
            before_write(event_id, changes, current)
        if events.conditional_set(event_id, changes, expected):
            return UpgradeOutcome(UpgradeResult.UPGRADED, event_id, current, after, attempts=attempt)
        current = events.get(event_id)
    return UpgradeOutcome(UpgradeResult.CONTENDED, event_id, current, attempts=max_attempts)


def keep_maintained_count(lookup: Callable[[str], int]) -> CountSource:
    """The count rule both halves share: an item whose count the count mechanism already
    maintains (it has countVersion) keeps it, since that count is at least as fresh as ours;
    any other item gets ``lookup(eventId)``."""

    def source(item: Mapping[str, Any]) -> int | None:
        if COUNT_VERSION in item and "participantCount" in item:
            return None
        return lookup(item["eventId"])

    return source
