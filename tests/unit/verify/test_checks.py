"""Pure verify checks: one live event, its fresh count and its snapshot in, findings out."""

from decimal import Decimal

import pytest

from backfill.verify.checks import (
    FindingKind,
    check_item,
    check_status,
    created_after_snapshot,
    missing_since_snapshot,
    orphan_source_rows,
    unowned_writes,
)
from chalicelib.schema import upgrade_item

LEGACY = {"eventId": "e1", "name": "Quiz", "status": "active", "createdAt": Decimal(1_700_000_000_000), "tags": {"a"}}


def migrated(legacy=LEGACY, count=3):
    return upgrade_item(legacy, aggregates={"participantCount": count})


def kinds(findings):
    return {f.kind for f in findings}


def test_a_correctly_migrated_event_has_no_findings():
    assert check_item(migrated(), fresh_count=3, snapshot_item=LEGACY, migration_status="live") == []


def test_a_wrong_count_fails_with_both_numbers():
    [finding] = check_item(migrated(count=4), fresh_count=3, snapshot_item=LEGACY)
    assert finding.kind is FindingKind.COUNT_MISMATCH and finding.fails
    assert "4" in finding.reason and "3" in finding.reason


def test_a_dropped_new_field_is_invalid():
    item = {k: v for k, v in migrated().items() if k != "visibility"}
    [finding] = check_item(item, fresh_count=3, snapshot_item=LEGACY)
    assert finding.kind is FindingKind.INVALID and "visibility" in finding.reason


def test_timestamps_out_of_order_are_invalid():
    item = {**migrated(), "startedAt": Decimal(1_699_999_999_999)}
    [finding] = check_item(item, fresh_count=3)
    assert finding.kind is FindingKind.INVALID and "before createdAt" in finding.reason


def test_strict_a_changed_unowned_attribute_fails_naming_it_and_its_type_and_owned_changes_do_not_count():
    item = {**migrated(), "tags": {"a", "b"}, "lastModified": Decimal(1_700_000_005_000)}
    [finding] = check_item(item, fresh_count=3, snapshot_item=LEGACY, strict=True)
    assert finding.kind is FindingKind.UNOWNED_CHANGED and finding.reason.endswith("tags (changed, SS)")
    assert "'a'" not in finding.reason  # values only when asked for


def test_by_default_an_unowned_change_is_the_applications_a_note_naming_each_attribute_and_type_change():
    item = {**migrated(), "tags": Decimal(3), "topic": "quiz"}
    item.pop("name")
    [finding] = check_item(item, fresh_count=3, snapshot_item=LEGACY)
    assert finding.kind is FindingKind.CHANGED_BY_APPLICATION and not finding.fails
    assert finding.reason.endswith("name (removed, was S), tags (changed, SS -> N), topic (added, S)")


def test_values_are_shown_only_when_asked():
    item = {**migrated(), "tags": {"a", "b"}}
    [finding] = check_item(item, fresh_count=3, snapshot_item=LEGACY, show_values=True)
    assert "tags (changed, SS: {'a'} -> {" in finding.reason and "'b'" in finding.reason


def test_a_ledger_write_of_an_unowned_attribute_fails_naming_it_and_its_type_change():
    # given the migration's ledger entry: it set status (owned) and name (not owned) on an item read with name "x"
    [finding] = unowned_writes("e1", {"status": "live", "name": Decimal(5)}, {"name": "x", "status": "active"})
    assert finding.fails and finding.kind is FindingKind.UNOWNED_WRITTEN
    assert finding.reason.endswith("name (changed, S -> N)") and "status" not in finding.reason
    assert unowned_writes("e1", {"status": "live"}, {"status": "active"}) == []


@pytest.mark.parametrize(
    ("snapshot", "live", "expected"),
    [
        ("waiting", "setup", set()),
        ("active", "live", set()),
        ("completed", "completed", set()),
        ("live", "live", set()),  # an already migrated item maps to itself
        ("waiting", "live", {FindingKind.STATUS_ADVANCED}),  # the app moved it forward
        ("active", "completed", {FindingKind.STATUS_ADVANCED}),
        ("active", "setup", {FindingKind.STATUS_MAPPING}),  # backwards
        ("completed", "draft", {FindingKind.STATUS_MAPPING}),
        ("archived", "setup", set()),  # nothing to map from: validate_item has the last word
        ("waiting", "bogus", set()),  # the live status itself is reported by validate_item
    ],
)
def test_status_must_follow_from_the_snapshot(snapshot, live, expected):
    assert kinds(check_status("e", snapshot, live)) == expected


def test_a_later_status_the_migration_wrote_is_progress_the_app_made_after_the_backup():
    # given the app started a waiting event after the backup, and the migration re-read it
    findings = check_status("e", "waiting", "live", migration_status="live")
    # then that is a note, not a failure
    assert kinds(findings) == {FindingKind.STATUS_ADVANCED}


def test_an_earlier_status_the_migration_wrote_fails():
    findings = check_status("e", "active", "live", migration_status="setup")
    assert FindingKind.STATUS_MAPPING in kinds(findings)


def test_missing_new_and_orphans():
    assert [f.name for f in missing_since_snapshot({"b", "a"})] == ["a", "b"]
    assert all(f.fails for f in missing_since_snapshot({"a"}))
    assert not any(f.fails for f in created_after_snapshot({"n"}))
    orphans = orphan_source_rows({"e1": 2, "ghost": 3}, ["e1"])
    assert [(f.name, f.fails) for f in orphans] == [("ghost", False)] and "3 participant" in orphans[0].reason


def test_a_legacy_status_left_in_a_migrated_item_is_one_clear_sentence():
    # given a migrated item whose status an old writer set back to a legacy value
    item = {**migrated(), "status": "waiting"}
    # when verify checks it (values shown on request)
    [finding] = check_item(item, fresh_count=3, show_values=True)
    # then the finding names the item (its key column) and one sentence names the attribute, its
    # value and the values allowed now, without offering the legacy values as if they were allowed
    assert finding.kind is FindingKind.INVALID and finding.name == "e1"
    assert finding.reason == ("status 'waiting' is a legacy value the current shape no longer allows: "
                              "it must be one of draft, setup, live, completed")


def test_an_unknown_status_names_the_allowed_values_only():
    [finding] = check_item({**migrated(), "status": "archived"}, fresh_count=3, show_values=True)
    assert finding.name == "e1" and finding.reason == "status 'archived' is not one of draft, setup, live, completed"
    # and by default the value itself is not printed
    [hidden] = check_item({**migrated(), "status": "archived"}, fresh_count=3)
    assert hidden.reason == "status <value> is not one of draft, setup, live, completed"
