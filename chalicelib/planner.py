"""The pure planner: one item as read -> the write that brings it to the current schema.

Input: the item exactly as read, the aggregate values the caller found for it (name -> value),
when the write being upgraded happened (stream record time; None in the backfill) and, for the
live path, attributes to carry forward from an earlier image. Output: a ``WritePlan`` naming
the fields to SET, the fields to REMOVE (owned ones a structural change drops: a rename's old
name once contracted) and the guard to condition that write on (every field the plan was computed
from, as read, removed ones included). No I/O: the backfill's dry run, the backfill and the stream handlers all call
this, and only the write loop (``chalicelib.upgrader``) sends anything.

The aggregate rule lives here too: an aggregate's value (``itemCount``) belongs to the
aggregate mechanism (``chalicelib.counts``). An item whose value that mechanism maintains (it
has the aggregate's version attribute, ``countVersion``) keeps it, which is at least as fresh as
any the caller has; any other item gets the caller's value, even when it is otherwise current (a
value written before the live path existed may be wrong). Every write of an aggregate's value
bumps its version attribute.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.schema import Context, Schema, UpgradeRefused, active_schema
from chalicelib.schema.aggregate import Aggregate
from chalicelib.schema.rename import undecided
from chalicelib.schema.upgrade import changed_fields, is_newer, removed_fields, upgrade_item
from chalicelib.schema.values import as_count


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()  # a guard value meaning "the attribute must not exist"


class Verdict(enum.Enum):
    WRITE = "write"  # changes to SET and fields to REMOVE, conditioned on the guard
    CURRENT = "current"  # already current: nothing to write
    REFUSED = "refused"  # the rule cannot upgrade it without guessing; reasons say why
    NEWER = "newer"  # written by a newer schema version than this code knows: never rewritten


@dataclass(frozen=True)
class WritePlan:
    verdict: Verdict
    item_name: str  # the item's name (``Key.name_of``)
    before: dict[str, Any]  # the item as read
    after: dict[str, Any] | None = None  # the item once the write lands (None when refused)
    changes: dict[str, Any] = field(default_factory=dict)  # attributes to SET
    guard: dict[str, Any] = field(default_factory=dict)  # attribute -> value as read, or ABSENT
    reasons: list[str] = field(default_factory=list)
    removes: tuple[str, ...] = ()  # attributes to REMOVE (their values are in ``before``)
    undecided: tuple[str, ...] = ()  # refused: rename pairs (new names) out of step, no write known


def is_maintained(item: Mapping[str, Any], aggregate: Aggregate) -> bool:
    """True when the aggregate mechanism keeps this item's value of ``aggregate`` (module doc)."""
    return aggregate.version_field in item and aggregate.name in item


def unmaintained(item: Mapping[str, Any], schema: Schema | None = None) -> tuple[Aggregate, ...]:
    """The aggregates whose value the caller must find for ``item`` (not kept by the mechanism)."""
    return tuple(a for a in (schema or active_schema()).aggregates if not is_maintained(item, a))


def next_version(item: Mapping[str, Any], aggregate: Aggregate) -> int:
    return (as_count(item.get(aggregate.version_field, 0)) or 0) + 1


def expected_state(item: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The guard that ``fields`` are exactly as in ``item`` (absent ones still absent)."""
    return {name: item.get(name, ABSENT) for name in sorted(fields)}


def plan_upgrade(
    item: Mapping[str, Any],
    *,
    aggregates: Mapping[str, Any] | None = None,
    observed_at_ms: int | None = None,
    carry: Mapping[str, Any] | None = None,
    now_ms: int | None = None,
    written: frozenset[str] = frozenset(),
    deferred: frozenset[str] = frozenset(),
    schema: Schema | None = None,
) -> WritePlan:
    """What to write to ``item`` (as read) so it is a current, valid item with exact aggregates.

    ``aggregates``: aggregate name -> the value the caller found (a name left out, or an item
    that maintains it: keep the item's own; an item without one then raises ValueError, a caller
    error). ``carry``: attributes to put back
    (e.g. from a stream record's OldImage) before the rule runs; they are written and guarded
    like owned fields. ``written``: the rename attributes the write being upgraded changed
    (``Context.written``); ``deferred``: those of pairs left exactly as they are (``Context.deferred``:
    nothing carried into them either). ``schema``: the active one unless given. Raises nothing for bad data:
    a refusal is a plan with reasons.
    """
    schema = schema or active_schema()
    before = dict(item)
    item_name = str(schema.key.describe(before))
    carried = {name: value for name, value in (carry or {}).items() if name not in deferred}
    if is_newer(before, schema):
        return WritePlan(Verdict.NEWER, item_name, before, reasons=[
            f"{schema.version_field} {before.get(schema.version_field)} is newer than this code knows ({schema.version})"])
    given = {a.name: aggregates[a.name] for a in unmaintained(before, schema) if aggregates and a.name in aggregates}
    try:
        after = upgrade_item(
            {**before, **carried}, aggregates=given, observed_at_ms=observed_at_ms, now_ms=now_ms, written=written,
            deferred=deferred, schema=schema,
        )
    except UpgradeRefused as refused:
        pairs = undecided({**before, **carried}, schema, Context(written=written, deferred=deferred))
        return WritePlan(Verdict.REFUSED, item_name, before, reasons=list(refused.reasons),
                         undecided=tuple(r.new for r in pairs))
    writable = schema.owned | frozenset(carried)
    changes = changed_fields(before, after, writable)
    removes = removed_fields(before, after, writable)
    for aggregate in schema.aggregates:
        if aggregate.name in changes:
            changes[aggregate.version_field] = after[aggregate.version_field] = next_version(before, aggregate)
    if not changes and not removes:
        return WritePlan(Verdict.CURRENT, item_name, before, after)
    guard = expected_state(before, writable | schema.inputs)
    return WritePlan(Verdict.WRITE, item_name, before, after, changes, guard, removes=removes)
