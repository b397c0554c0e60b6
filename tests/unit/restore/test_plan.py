"""Pure restore planning: backed-up item, live item and the migration's writes in, a decision out."""

from decimal import Decimal

import pytest

from backfill.restore.plan import Action, MigrationWrite, classify, writes_by_rule
from chalicelib.schema import upgrade_item
from chalicelib.schema.upgrade import changed_fields

BACKUP = {"eventId": "e1", "name": "Quiz", "status": "completed", "createdAt": Decimal(1_700_000_000_000), "x": {"a": [True]}}
MIGRATED = upgrade_item(BACKUP, aggregates={"participantCount": 2})
CHANGES = {**changed_fields(BACKUP, MIGRATED), "countVersion": Decimal(1)}
WRITES = [MigrationWrite(CHANGES, BACKUP)]
LIVE = {**MIGRATED, "countVersion": Decimal(1)}


def write_over(read, count=0):
    """The migration's write over ``read``, and the item it leaves."""
    after = {**upgrade_item(read, aggregates={"participantCount": count}), "countVersion": Decimal(1)}
    return MigrationWrite({**changed_fields(read, after), "countVersion": Decimal(1)}, read), after


def test_identical_item_needs_nothing():
    assert classify(BACKUP, dict(BACKUP), WRITES).action is Action.UNCHANGED


def test_item_as_migrated_is_restored_by_removing_the_owned_fields_the_backup_lacked():
    plan = classify(BACKUP, LIVE, WRITES)
    assert plan.action is Action.RESTORE and plan.set_fields == ()
    assert set(plan.remove_fields) == set(CHANGES) and "status" not in plan.remove_fields


def test_owned_fields_the_backup_had_are_set_back():
    backup = {**BACKUP, "status": "active"}  # legacy status the migration mapped
    write, live = write_over(backup)
    plan = classify(backup, live, [write])
    assert plan.action is Action.RESTORE and plan.sets == {"status": "active"}


def test_app_change_between_backup_and_migration_write_is_what_restore_returns_to():
    # given the app started the event after the backup; the migration's first attempt (over the
    # backup) failed its condition, the second (over the app's state) landed
    backup = {**BACKUP, "status": "waiting"}
    started = {**backup, "status": "active"}
    first, _ = write_over(backup)
    second, live = write_over(started)
    # when classified, then the app's state is the target: status active, startedAt removed
    plan = classify(backup, live, [first, second])
    assert plan.action is Action.RESTORE
    assert plan.sets == {"status": "active"} and "startedAt" in plan.remove_fields
    assert {**{k: v for k, v in live.items() if k not in plan.remove_fields}, **plan.sets} == started


def test_change_after_the_migration_write_is_a_conflict_even_to_a_field_it_wrote():
    backup = {**BACKUP, "status": "waiting"}
    write, live = write_over(backup)
    plan = classify(backup, {**live, "status": "live", "startedAt": Decimal(2000)}, [write])
    assert plan.action is Action.CONFLICT and plan.differences == {"startedAt": "added", "status": "changed"}


def test_write_that_never_landed_leaves_nothing_to_undo():
    # given a ledger line whose write never landed (the process died in between)
    assert classify(BACKUP, dict(BACKUP), WRITES).action is Action.UNCHANGED


def test_write_that_never_landed_over_an_app_change_is_a_conflict_that_says_so():
    changed = {**BACKUP, "status": "active"}
    write, _ = write_over(changed)
    plan = classify(BACKUP, changed, [write])
    assert plan.action is Action.CONFLICT and plan.differences == {"status": "changed"}
    assert "did not land" in plan.reason


def test_a_count_moved_by_the_live_path_is_not_a_conflict():
    live = {**LIVE, "participantCount": Decimal(7), "countVersion": Decimal(4)}
    plan = classify(BACKUP, live, WRITES)
    assert plan.action is Action.RESTORE and {"participantCount", "countVersion"} <= set(plan.remove_fields)


def test_a_count_moved_on_a_row_the_migration_did_not_write_is_left_alone():
    assert classify(BACKUP, {**BACKUP, "participantCount": Decimal(3), "countVersion": Decimal(1)}, []).action \
        is Action.UNCHANGED


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
    new = classify(None, {"eventId": "n"}, [])
    assert new.action is Action.NEW and new.item_name == "n"


def test_without_a_ledger_the_upgrade_rule_tells_what_the_migration_wrote():
    [rule] = writes_by_rule(BACKUP)
    assert rule.read == BACKUP and rule.changes["schemaVersion"] == 2
    plan = classify(BACKUP, LIVE, [rule])
    assert plan.action is Action.RESTORE and set(plan.remove_fields) == set(CHANGES)
    assert writes_by_rule({"eventId": "bad", "status": "archived", "createdAt": Decimal(1_700_000_000_000)}) == []



def test_a_write_that_removed_an_attribute_is_undone_by_putting_it_back_as_read():
    # given the migration moved description to summary and removed description
    read = {**BACKUP, "description": "Pub quiz"}
    write = MigrationWrite({"summary": "Pub quiz"}, read, removes=("description",))
    live = {**BACKUP, "summary": "Pub quiz"}
    # when classified, then summary goes and description comes back with its value as read
    plan = classify(read, live, [write])
    assert plan.action is Action.RESTORE
    assert plan.sets == {"description": "Pub quiz"} and plan.remove_fields == ("summary",)
    # and a live item where the application changed summary since is a conflict, not reverted
    assert classify(read, {**live, "summary": "edited"}, [write]).action is Action.CONFLICT


def test_restoring_a_count_the_mirror_keeps_unmarks_the_item():
    from chalicelib.schema import use_schema
    from chalicelib.schema.mirrored import EVENTS

    # given an item the migration wrote, whose count the mirror took over since (marked)
    live = {**LIVE, "participantCount": Decimal(7), "countVersion": Decimal(4), "participantCountMirrored": True}
    with use_schema(EVENTS):
        plan = classify(BACKUP, live, WRITES)
    # then restore removes the count and the marker together: an unmarked item is recounted by
    # the live path and handed over again by the next seed, never ADDed to without a count
    assert plan.action is Action.RESTORE
    assert {"participantCount", "countVersion", "participantCountMirrored"} <= set(plan.remove_fields)
