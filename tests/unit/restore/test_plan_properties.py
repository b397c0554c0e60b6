"""Properties of restore planning over generated legacy events (pure, many examples)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from backfill.restore.plan import Action, ItemPlan, MigrationWrite, classify
from backfill.table.compare import differing_attributes
from chalicelib.items import to_python
from chalicelib.planner import Verdict, plan_upgrade
from tests.strategies import RELAXED, legacy_events


def reverted(live: dict[str, Any], plan: ItemPlan) -> dict[str, Any]:
    kept = {name: value for name, value in live.items() if name not in plan.remove_fields}
    return {**kept, **plan.sets}


@settings(max_examples=50, **RELAXED)
@given(legacy_events(), st.integers(0, 10**6))
def test_a_migrated_event_is_reverted_to_exactly_what_the_migration_read(typed, count):
    # given a legacy event as read, and the item the migration's write left
    read = to_python(typed)
    plan = plan_upgrade(read, aggregates={"participantCount": count})
    assert plan.verdict is Verdict.WRITE and plan.after is not None
    # when restore classifies it against its ledger entry
    decision = classify(read, plan.after, [MigrationWrite(plan.changes, plan.before)])
    # then it is restored, and undoing the write gives back the item as read, type for type
    assert decision.action is Action.RESTORE
    assert to_python_equal(reverted(plan.after, decision), read)


@settings(max_examples=50, **RELAXED)
@given(legacy_events(), legacy_events(), st.integers(0, 10**6))
def test_an_app_change_before_the_migration_write_is_what_restore_returns_to(backup_typed, changed_typed, count):
    # given the app rewrote the event (same key) after the backup; the first attempt over the
    # backup failed its guard and the second, over the app's state, landed
    backup = to_python(backup_typed)
    changed = {**to_python(changed_typed), "eventId": backup["eventId"]}
    first = plan_upgrade(backup, aggregates={"participantCount": count})
    second = plan_upgrade(changed, aggregates={"participantCount": count})
    assert second.after is not None
    writes = [MigrationWrite(first.changes, first.before), MigrationWrite(second.changes, second.before)]
    # when classified, then restore returns to the app's state, not to the backup
    decision = classify(backup, second.after, writes)
    assert decision.action is Action.RESTORE
    assert to_python_equal(reverted(second.after, decision), changed)


def to_python_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return differing_attributes(a, b) == {}
