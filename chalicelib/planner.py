"""The pure planner: one event as read -> the write that brings it to the current schema.

Input: the item exactly as read, the participant count the caller found for it (or None),
when the write being upgraded happened (stream record time; None in the backfill) and, for the
live path, attributes to carry forward from an earlier image. Output: a ``WritePlan`` naming
the fields to SET and the guard to condition that write on (every field the plan was computed
from, as read). No I/O: the backfill's dry run, the backfill and the stream handlers all call
this, and only the write loop (``chalicelib.upgrader``) sends anything.

The count rule lives here too: ``participantCount`` belongs to the count mechanism
(``chalicelib.counts``). An item whose count that mechanism maintains (it has ``countVersion``)
keeps its count, which is at least as fresh as any the caller has; any other item gets the
caller's count, even when it is otherwise current (a count written before the live path
existed may be wrong). Every write of ``participantCount`` bumps ``countVersion``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.schema import (
    COUNT_VERSION,
    PARTICIPANT_COUNT,
    Schema,
    UpgradeRefused,
    active_schema,
)
from chalicelib.schema.upgrade import changed_fields, upgrade_event
from chalicelib.schema.values import as_count


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()  # a guard value meaning "the attribute must not exist"


class Verdict(enum.Enum):
    WRITE = "write"  # changes to SET, conditioned on the guard
    CURRENT = "current"  # already current: nothing to write
    REFUSED = "refused"  # the rule cannot upgrade it without guessing; reasons say why


@dataclass(frozen=True)
class WritePlan:
    verdict: Verdict
    event_id: str
    before: dict[str, Any]  # the item as read
    after: dict[str, Any] | None = None  # the item once the write lands (None when refused)
    changes: dict[str, Any] = field(default_factory=dict)  # attributes to SET
    guard: dict[str, Any] = field(default_factory=dict)  # attribute -> value as read, or ABSENT
    reasons: list[str] = field(default_factory=list)


def count_is_maintained(item: Mapping[str, Any]) -> bool:
    """True when the count mechanism keeps this item's ``participantCount`` (see module doc)."""
    return COUNT_VERSION in item and PARTICIPANT_COUNT in item


def next_count_version(item: Mapping[str, Any]) -> int:
    return (as_count(item.get(COUNT_VERSION, 0)) or 0) + 1


def expected_state(item: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The guard that ``fields`` are exactly as in ``item`` (absent ones still absent)."""
    return {name: item.get(name, ABSENT) for name in sorted(fields)}


def plan_upgrade(
    item: Mapping[str, Any],
    *,
    count: int | None = None,
    observed_at_ms: int | None = None,
    carry: Mapping[str, Any] | None = None,
    now_ms: int | None = None,
    schema: Schema | None = None,
) -> WritePlan:
    """What to write to ``item`` (as read) so it is a current, valid event with an exact count.

    ``count``: the participant count the caller found (None: keep the item's own; an item
    without one then raises ValueError, a caller error). ``carry``: attributes to put back
    (e.g. from a stream record's OldImage) before the rule runs; they are written and guarded
    like owned fields. ``schema``: the active one unless given. Raises nothing for bad data:
    a refusal is a plan with reasons.
    """
    schema = schema or active_schema()
    before = dict(item)
    event_id = str(before.get("eventId"))
    carried = dict(carry or {})
    given = None if count_is_maintained(before) else count
    try:
        after = upgrade_event(
            {**before, **carried}, participant_count=given, observed_at_ms=observed_at_ms, now_ms=now_ms, schema=schema
        )
    except UpgradeRefused as refused:
        return WritePlan(Verdict.REFUSED, event_id, before, reasons=list(refused.reasons))
    changes = changed_fields(before, after, schema.owned | frozenset(carried))
    if PARTICIPANT_COUNT in changes:
        changes[COUNT_VERSION] = after[COUNT_VERSION] = next_count_version(before)
    if not changes:
        return WritePlan(Verdict.CURRENT, event_id, before, after)
    guard = expected_state(before, schema.owned | schema.inputs | frozenset(carried))
    return WritePlan(Verdict.WRITE, event_id, before, after, changes, guard)
