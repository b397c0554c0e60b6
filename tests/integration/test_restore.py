"""backfill restore against the moto server: back to the backup attribute for attribute, live
changes are conflicts that survive unless --force, bad backups are refused before any write."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary
from click.testing import CliRunner

from backfill.cli.main import cli, main
from backfill.restore import (
    RestoreOptions,
    RestoreRefused,
    execute_restore,
    plan_restore,
    run_restore,
)
from backfill.run.backup import file_sha256, iter_backup_items
from backfill.table.compare import differing_attributes
from backfill.table.scan import parallel_scan
from backfill.table.target import Target
from chalicelib.counts import AggregateCounter, refresh_aggregate
from chalicelib.item_store import ItemStore
from chalicelib.items import to_python, to_typed
from localdev import legacy_data
from tests.support.migrated_table import migrate_like_backfill

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

EVERY_TYPE = {
    "eventId": "typed-1",
    "name": "Every type",
    "status": "completed",
    "createdAt": Decimal(1_700_000_000_000),
    "big": Decimal("12345678901234567890123456789012345678"),
    "tiny": Decimal("-0.000000000000000000000000000000000001"),
    "bin": Binary(b"\x00\xffbytes"),
    "ss": {"a", "b"},
    "ns": {Decimal("1.5"), Decimal("99999999999999999999999999999999999999")},
    "bs": {Binary(b"\x01"), Binary(b"\x02\x03")},
    "m": {"nested": {"deep": [Decimal(1), "x", None, True, {Binary(b"z")}]}},
    "l": [False, None, {"k": "v"}, ["inner"]],
    "flag": True,
    "nothing": None,
}


@pytest.fixture
def migrated(dynamodb, live_settings, tmp_path):
    data = legacy_data.generate(events=40, participants=120, seed=13)
    legacy_data.seed_tables(dynamodb, live_settings.table("events"), live_settings.table("participants"), data)
    legacy_data.load(dynamodb, live_settings.table("events"), [EVERY_TYPE])
    backup = migrate_like_backfill(dynamodb, live_settings, tmp_path)
    return data, backup


@pytest.fixture
def target(live_settings, dynamodb):
    target = Target(settings=live_settings)
    target.dynamodb = dynamodb  # share the client so its calls can be counted
    return target


@pytest.fixture
def write_calls(dynamodb):
    calls = []
    dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name) if model.name in WRITES else None
    )
    return calls


def table_items(dynamodb, table):
    return {t["eventId"]["S"]: to_python(t) for page in parallel_scan(dynamodb, table, total_segments=1)
            for t in page.items}


def backup_items(backup):
    return {t["eventId"]["S"]: to_python(t) for _, t in iter_backup_items(backup)}


def assert_equals_backup(dynamodb, table, backup, *, except_ids=()):
    live, saved = table_items(dynamodb, table), backup_items(backup)
    assert set(live) == set(saved)
    for event_id, item in saved.items():
        if event_id not in except_ids:
            assert differing_attributes(item, live[event_id]) == {}, event_id


def set_name(dynamodb, table, event_id, name):
    dynamodb.update_item(TableName=table, Key={"eventId": {"S": event_id}}, UpdateExpression="SET #n = :v",
                         ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":v": {"S": name}})


def test_restore_puts_every_item_back_attribute_for_attribute(migrated, target, dynamodb, live_settings, tmp_path,
                                                             write_calls):
    data, backup = migrated
    # given a migrated table (every event now carries the new fields)
    assert table_items(dynamodb, live_settings.table("events"))["typed-1"]["schemaVersion"] == 2
    # when it is restored
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path, backup_dir=tmp_path))
    # then every item equals its backup, every DynamoDB type included
    assert result.ok, result.to_json()
    assert result.counts() == {"restored": len(data.events) + 1}
    assert_equals_backup(dynamodb, live_settings.table("events"), backup)
    assert table_items(dynamodb, live_settings.table("events"))["typed-1"] == EVERY_TYPE
    # and only owned fields were written back: one conditional UpdateItem per item, no PutItem
    assert write_calls == ["UpdateItem"] * (len(data.events) + 1)
    # and the report is saved next to the backup
    report = json.loads(backup.sibling(".restore-report.json").read_text())
    assert report["ok"] is True and report["counts"] == {"restored": len(data.events) + 1}
    # and restoring again finds nothing to do
    again = run_restore(target, RestoreOptions(backup_file=backup.data_path, backup_dir=tmp_path))
    assert again.counts() == {"unchanged": len(data.events) + 1}


def test_live_change_after_migration_is_a_conflict_that_survives_without_force(migrated, target, dynamodb,
                                                                               live_settings, tmp_path):
    data, backup = migrated
    table = live_settings.table("events")
    renamed, moved = data.events[0]["eventId"], next(e for e in data.events if e["status"] == "waiting")["eventId"]
    # given an app rename and an app status change after the migration
    set_name(dynamodb, table, renamed, "renamed live")
    dynamodb.update_item(TableName=table, Key={"eventId": {"S": moved}}, UpdateExpression="SET #s = :s",
                         ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "draft"}})
    # when restored without --force
    plan = plan_restore(target, RestoreOptions(backup_file=backup.data_path))
    assert {p.item_name: p.differences for p in plan.conflicts} == {renamed: {"name": "changed"},
                                                                    moved: {"status": "changed"}}
    result = execute_restore(target, plan)
    # then both are reported as skipped conflicts, kept as they are live, and the rest is restored
    assert not result.ok
    assert result.ids("conflict_skipped") == {renamed, moved}
    live = table_items(dynamodb, table)
    assert live[renamed]["name"] == "renamed live" and live[renamed]["schemaVersion"] == 2
    assert live[moved]["status"] == "draft"
    assert_equals_backup(dynamodb, table, backup, except_ids={renamed, moved})
    # when restored again with --force, then the backup wins everywhere
    forced = run_restore(target, RestoreOptions(backup_file=backup.data_path, force=True))
    assert forced.ok and forced.ids("overwritten") == {renamed, moved}
    assert_equals_backup(dynamodb, table, backup)


def test_app_write_to_another_attribute_during_restore_survives(migrated, target, dynamodb, live_settings):
    data, backup = migrated
    table, event_id = live_settings.table("events"), data.events[1]["eventId"]
    # given a plan made while the item was still as migrated
    plan = plan_restore(target, RestoreOptions(backup_file=backup.data_path))
    # when the app renames it before the restore writes
    set_name(dynamodb, table, event_id, "written during restore")
    result = execute_restore(target, plan)
    # then the owned fields are reverted and the app's write is kept (no whole-item put)
    assert event_id in result.ids("restored")
    item = table_items(dynamodb, table)[event_id]
    assert item["name"] == "written during restore"
    assert differing_attributes(backup_items(backup)[event_id], item) == {"name": "changed"}


def test_count_moved_by_the_live_path_is_not_a_conflict(migrated, target, dynamodb, live_settings):
    data, backup = migrated
    event_id = data.events[2]["eventId"]
    # given a participant joined after the migration and the live path recounted
    dynamodb.put_item(TableName=live_settings.table("participants"),
                      Item=to_typed({"eventId": event_id, "participantId": "late"}))
    outcome = refresh_aggregate(ItemStore(dynamodb, live_settings.table("events")),
                                        AggregateCounter(dynamodb, live_settings.table("participants")), event_id)
    assert outcome.result.value == "updated"
    # when restored, then the item is restored like the others
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path))
    assert result.ok and event_id in result.ids("restored")
    assert_equals_backup(dynamodb, live_settings.table("events"), backup)


def test_deleted_and_new_items(migrated, target, dynamodb, live_settings):
    data, backup = migrated
    table, gone = live_settings.table("events"), data.events[3]["eventId"]
    dynamodb.delete_item(TableName=table, Key={"eventId": {"S": gone}})
    legacy_data.load(dynamodb, table, [{"eventId": "born-later", "name": "x", "status": "waiting",
                                        "createdAt": Decimal(1_700_000_000_000)}])
    # without flags: the deletion is a conflict, the new item is reported and kept
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path))
    assert not result.ok
    assert result.ids("deleted_skipped") == {gone} and result.ids("new_kept") == {"born-later"}
    # with --force --delete-new: recreated and deleted, the table equals the backup
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path, force=True, delete_new=True))
    assert result.ok and result.ids("recreated") == {gone} and result.ids("new_deleted") == {"born-later"}
    assert_equals_backup(dynamodb, table, backup)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_backup_is_refused_before_any_write(migrated, target, dynamodb, live_settings, write_calls, damage):
    _, backup = migrated
    raw = bytearray(backup.data_path.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0x01
    else:
        raw = raw[: len(raw) // 2]
    backup.data_path.write_bytes(bytes(raw))
    before = table_items(dynamodb, live_settings.table("events"))
    with pytest.raises(RestoreRefused, match="damaged"):
        run_restore(target, RestoreOptions(backup_file=backup.data_path))
    assert write_calls == []
    assert table_items(dynamodb, live_settings.table("events")) == before


def test_backup_with_a_wrong_item_count_is_refused(migrated, target, write_calls):
    # a backup whose manifest (checksum included) was rewritten after lines were dropped
    _, backup = migrated
    lines = gzip.decompress(backup.data_path.read_bytes()).splitlines(keepends=True)
    backup.data_path.write_bytes(gzip.compress(b"".join(lines[:-1])))
    manifest = json.loads(backup.manifest_path.read_text())
    manifest["sha256"] = file_sha256(backup.data_path)
    backup.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(RestoreRefused, match="holds"):
        run_restore(target, RestoreOptions(backup_file=backup.data_path))
    assert write_calls == []


def test_cli_refuses_without_yes_and_without_a_terminal(migrated, dynamodb, live_settings, tmp_path):
    _, backup = migrated
    before = table_items(dynamodb, live_settings.table("events"))
    result = CliRunner().invoke(cli, ["restore", str(backup.data_path), "--endpoint-url", live_settings.endpoint_url,
                                      "--backup-dir", str(tmp_path)])
    assert result.exit_code == 3, result.output
    assert table_items(dynamodb, live_settings.table("events")) == before


def test_cli_missing_file_lists_the_backups_that_exist(migrated, live_settings, tmp_path):
    _, backup = migrated
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "nope.jsonl.gz"), "--endpoint-url",
                                      live_settings.endpoint_url, "--backup-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "Error: cannot restore, nothing was written" in result.stderr and str(backup.data_path) in result.stderr


def test_cli_dash_dash_restore_with_yes_restores_and_prints_json(migrated, dynamodb, live_settings, tmp_path,
                                                                  capsys):
    _, backup = migrated
    with pytest.raises(SystemExit) as exited:
        main(["--restore", str(backup.data_path), "--yes", "--json", "--endpoint-url", live_settings.endpoint_url,
              "--backup-dir", str(tmp_path)])
    assert exited.value.code == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert_equals_backup(dynamodb, live_settings.table("events"), backup)
