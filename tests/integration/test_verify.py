"""backfill verify against the moto server: a migrated table passes; each kind of damage is
named exactly, on exactly the damaged items."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from backfill.cli.main import cli
from backfill.table.target import Target
from backfill.verify import FindingKind, VerifyOptions, run_verify
from chalicelib.items import to_typed
from localdev import legacy_data
from tests.support.migrated_table import migrate_like_backfill


@pytest.fixture
def migrated(dynamodb, live_settings, tmp_path):
    data = legacy_data.generate(events=60, participants=180, seed=11)
    legacy_data.seed_tables(dynamodb, live_settings.table("events"), live_settings.table("participants"), data)
    backup = migrate_like_backfill(dynamodb, live_settings, tmp_path)
    return data, backup


def verify(live_settings, tmp_path, **options):
    return run_verify(Target(settings=live_settings), VerifyOptions(backup_dir=tmp_path, **options))


def update(dynamodb, table, event_id, expression, values=None, names=None):
    kwargs = {"TableName": table, "Key": {"eventId": {"S": event_id}}, "UpdateExpression": expression}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    dynamodb.update_item(**kwargs)


def test_migrated_table_passes(migrated, live_settings, tmp_path):
    data, backup = migrated
    # when the freshly migrated table is verified against its backup
    result = verify(live_settings, tmp_path)
    # then every event was checked against the snapshot and nothing fails
    assert result.snapshot == backup.run_id
    assert result.items_checked == len(data.events)
    assert result.source_rows == len(data.participants)
    assert result.failures == [] and result.ok


def test_corrupted_count_dropped_field_and_changed_attribute_are_named(migrated, dynamodb, live_settings, tmp_path):
    data, _ = migrated
    table = live_settings.table("events")
    counted, dropped, changed = (e["eventId"] for e in data.events[:3])
    # given one wrong count, one dropped new field and one changed application attribute
    update(dynamodb, table, counted, "SET participantCount = :n", {":n": {"N": "999"}})
    update(dynamodb, table, dropped, "REMOVE visibility")
    update(dynamodb, table, changed, "SET #n = :v", {":v": {"S": "renamed"}}, {"#n": "name"})
    # when verified
    result = verify(live_settings, tmp_path)
    # then the count and the dropped field fail; the application's edit is a note naming it
    assert not result.ok
    assert result.failing_names() == {counted, dropped}
    assert result.ids_of(FindingKind.COUNT_MISMATCH) == {counted}
    assert result.ids_of(FindingKind.INVALID) == {dropped}
    assert result.ids_of(FindingKind.CHANGED_BY_APPLICATION) == {changed}
    # when verified --strict (a table with no other writer), the edit fails too, naming the attribute
    strict = verify(live_settings, tmp_path, strict=True)
    assert strict.failing_names() == {counted, dropped, changed}
    assert strict.ids_of(FindingKind.UNOWNED_CHANGED) == {changed}
    [reason] = [f.reason for f in strict.failures if f.name == changed]
    assert "name (changed, S)" in reason and "renamed" not in reason


def test_deleted_new_and_advanced_items(migrated, dynamodb, live_settings, tmp_path):
    data, _ = migrated
    table = live_settings.table("events")
    waiting = next(e for e in data.events if e["status"] == "waiting")
    deleted = data.events[-1]["eventId"]
    # given an event the app moved on (setup -> live), one deleted, one created after the snapshot
    update(dynamodb, table, waiting["eventId"], "SET #s = :s, startedAt = :t",
           {":s": {"S": "live"}, ":t": {"N": str(waiting["createdAt"] + 5)}}, {"#s": "status"})
    dynamodb.delete_item(TableName=table, Key={"eventId": {"S": deleted}})
    fresh = {"eventId": "new-1", "name": "n", "status": "draft", "createdAt": Decimal(1_700_000_000_005), "visibility": "public",
             "isTemplate": False, "lastModified": Decimal(1_700_000_000_005), "participantCount": Decimal(0), "schemaVersion": Decimal(2)}
    dynamodb.put_item(TableName=table, Item=to_typed(fresh))
    # when verified
    result = verify(live_settings, tmp_path)
    # then only the deletion fails; the forward move and the new event are notes
    assert result.failing_names() == {deleted}
    assert result.ids_of(FindingKind.MISSING) == {deleted}
    assert result.ids_of(FindingKind.STATUS_ADVANCED) == {waiting["eventId"]}
    assert result.ids_of(FindingKind.CREATED_AFTER_SNAPSHOT) == {"new-1"}


def test_status_moved_backwards_fails(migrated, dynamodb, live_settings, tmp_path):
    data, _ = migrated
    done = next(e for e in data.events if e["status"] == "completed")["eventId"]
    update(dynamodb, live_settings.table("events"), done, "SET #s = :s", {":s": {"S": "setup"}}, {"#s": "status"})
    result = verify(live_settings, tmp_path)
    assert result.ids_of(FindingKind.STATUS_MAPPING) == {done}


def test_refused_legacy_rows_fail_verification(dynamodb, live_settings, tmp_path):
    # given a table with malformed legacy rows the migration refused
    data = legacy_data.generate(events=30, participants=40, malformed=3, seed=5)
    legacy_data.seed_tables(dynamodb, live_settings.table("events"), live_settings.table("participants"), data)
    migrate_like_backfill(dynamodb, live_settings, tmp_path)
    # when verified, then exactly the refused rows are named as invalid
    result = verify(live_settings, tmp_path)
    assert result.failing_names() == set(data.malformed_ids)
    assert result.ids_of(FindingKind.INVALID) == set(data.malformed_ids)


def test_without_backup_snapshot_checks_are_skipped_with_a_note(dynamodb, live_settings, tmp_path):
    data = legacy_data.generate(events=10, participants=20, seed=3)
    legacy_data.seed_tables(dynamodb, live_settings.table("events"), live_settings.table("participants"), data)
    migrate_like_backfill(dynamodb, live_settings, tmp_path / "elsewhere")
    result = verify(live_settings, tmp_path / "empty")
    assert result.snapshot is None and "snapshot checks skipped" in result.snapshot_note
    assert result.ok and result.items_checked == 10


def test_orphan_source_rows_are_reported(migrated, dynamodb, live_settings, tmp_path):
    dynamodb.put_item(TableName=live_settings.table("participants"),
                      Item=to_typed({"eventId": "ghost", "participantId": "p1"}))
    result = verify(live_settings, tmp_path)
    assert result.ids_of(FindingKind.ORPHAN_SOURCE_ROWS) == {"ghost"}


def test_sample_checks_only_n_events(migrated, live_settings, tmp_path):
    result = verify(live_settings, tmp_path, sample=7)
    assert result.mode == "sample" and result.items_checked == 7 and result.ok


def test_cli_exit_codes_and_json(migrated, dynamodb, live_settings, tmp_path):
    data, _ = migrated
    args = ["verify", "--endpoint-url", live_settings.endpoint_url, "--backup-dir", str(tmp_path), "--json"]
    # given a clean migration, verify exits 0 with a JSON verdict on stdout
    passed = CliRunner().invoke(cli, args)
    assert passed.exit_code == 0, passed.output
    assert json.loads(passed.stdout)["ok"] is True
    # given a corrupted count, verify exits 1 naming the item
    bad = data.events[4]["eventId"]
    update(dynamodb, live_settings.table("events"), bad, "SET participantCount = :n", {":n": {"N": "77"}})
    failed = CliRunner().invoke(cli, args)
    assert failed.exit_code == 1
    assert [f["item"] for f in json.loads(failed.stdout)["failures"]] == [bad]
