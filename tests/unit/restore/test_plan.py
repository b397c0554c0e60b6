"""Pure restore planning: backed-up item, live item and the migration's writes in, a decision out."""

from decimal import Decimal

import pytest

from backfill.restore.plan import Action, classify, writes_by_rule
from chalicelib.schema import upgrade_event
from chalicelib.schema.upgrade import changed_fields

BACKUP = {"eventId": "e1", "name": "Quiz", "status": "completed", "createdAt": Decimal(1_700_000_000_000), "x": {"a": [True]}}
MIGRATED = upgrade_event(BACKUP, participant_count=2)
WRITES = {**changed_fields(BACKUP, MIGRATED), "countVersion": Decimal(1)}
LIVE = {**MIGRATED, "countVersion": Decimal(1)}


def test_identical_item_needs_nothing():
    assert classify(BACKUP, dict(BACKUP), WRITES).action is Action.UNCHANGED


def test_item_as_migrated_is_restored_by_removing_the_owned_fields_the_backup_lacked():
    plan = classify(BACKUP, LIVE, WRITES)
    assert plan.action is Action.RESTORE and plan.set_fields == ()
    assert set(plan.remove_fields) == set(WRITES) and "status" not in plan.remove_fields


def test_owned_fields_the_backup_had_are_set_back():
    backup = {**BACKUP, "status": "active"}  # legacy status the migration mapped
    live = {**upgrade_event(backup, participant_count=0), "countVersion": Decimal(1)}
    writes = {**changed_fields(backup, live), "countVersion": Decimal(1)}
    plan = classify(backup, live, writes)
    assert plan.action is Action.RESTORE and plan.set_fields == ("status",)


def test_a_count_moved_by_the_live_path_is_not_a_conflict():
    live = {**LIVE, "participantCount": Decimal(7), "countVersion": Decimal(4)}
    assert classify(BACKUP, live, WRITES).action is Action.RESTORE


@pytest.mark.parametrize(
    ("change", "differences"),
    [
        ({"name": "renamed"}, {"name": "changed"}),
        ({"x": {"a": [Decimal(1)]}}, {"x": "changed"}),  # True -> 1 is a change
        ({"topic": "new"}, {"topic": "added"}),
        ({"visibility": "public"}, {"visibility": "changed"}),  # owned, but not what the migration wrote
    ],
)
def test_any_other_change_is_a_conflict_naming_the_attributes(change, differences):
    plan = classify(BACKUP, {**LIVE, **change}, WRITES)
    assert plan.action is Action.CONFLICT and plan.differences == differences
    assert "changed since the migration" in plan.reason


def test_a_removed_application_attribute_is_a_conflict():
    live = {k: v for k, v in LIVE.items() if k != "x"}
    assert classify(BACKUP, live, WRITES).differences == {"x": "removed"}


def test_deleted_and_new_items():
    assert classify(BACKUP, None, WRITES).action is Action.DELETED
    new = classify(None, {"eventId": "n"}, {})
    assert new.action is Action.NEW and new.event_id == "n"


def test_without_a_ledger_the_upgrade_rule_tells_what_the_migration_wrote():
    rule = writes_by_rule(BACKUP)
    assert "participantCount" not in rule and rule["schemaVersion"] == 2
    assert classify(BACKUP, LIVE, rule).action is Action.RESTORE
    assert writes_by_rule({"eventId": "bad", "status": "archived", "createdAt": Decimal(1_700_000_000_000)}) == {}
