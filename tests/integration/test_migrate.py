"""`backfill migrate` against a real endpoint over HTTP (moto server): the issue's "Done when" list."""

from __future__ import annotations

import json

from click.testing import CliRunner

from backfill.cli.main import cli
from backfill.migrate import MigrationHooks, plan_migration, run_migration
from backfill.run.backup import load_backup, verify_backup
from backfill.run.ledger import read_ledger
from chalicelib.items import to_python
from chalicelib.schema import validate_item
from tests.integration.migrate_helpers import (
    fresh_count,
    options,
    raw_items,
    seed,
    target_for,
    unowned_bytes,
)


def type_tags(value):
    """Every DynamoDB type tag in a typed value, nested ones included."""
    (tag, inner), = value.items()
    yield tag
    children = inner.values() if tag == "M" else inner if tag == "L" else ()
    for child in children:
        yield from type_tags(child)


WRITE_OPERATIONS = {"UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def test_legacy_rows_are_migrated_and_everything_else_is_preserved(dynamodb, live_settings, tmp_path):
    # given legacy events of every attribute type, with participants and some malformed rows
    data = seed(dynamodb, live_settings, events=120, participants=400, malformed=6)
    before = raw_items(dynamodb, live_settings.table("events"))
    kinds = {kind for item in before.values() for value in item.values() for kind in type_tags(value)}
    assert {"SS", "NS", "B", "M", "L", "NULL", "BOOL", "N", "S"} <= kinds
    assert any("ライブ" in item["name"].get("S", "") for item in before.values())
    # when the migration runs
    report = run_migration(target_for(live_settings), options(tmp_path))
    after = raw_items(dynamodb, live_settings.table("events"))
    # then every valid row is upgraded, the malformed ones are refused by key with reasons
    assert report.migrated == 114 and report.tally.count("failed") == 0
    assert sorted(p["eventId"] for p in report.tally.refused) == sorted(data.malformed_ids)
    assert all(p["reasons"] for p in report.tally.refused)
    assert report.exit_code == 1
    for event_id, item in after.items():
        # and no attribute the migration does not own changed by a single byte
        assert unowned_bytes(item) == unowned_bytes(before[event_id]), event_id
        if event_id in data.malformed_ids:
            assert item == before[event_id]  # refused rows are not touched at all
            continue
        upgraded = to_python(item)
        assert validate_item(upgraded) == [] and upgraded["schemaVersion"] == 2
        # and the counts equal a fresh consistent count of the participants table
        assert upgraded["participantCount"] == fresh_count(dynamodb, live_settings, event_id)
    # and the backup is intact, the ledger knows every write, the report is saved beside them
    backup = load_backup(report.backup_file)
    verify_backup(backup)
    assert backup.item_count == 120
    assert set(read_ledger(backup.store, backup.name_for(".ledger.jsonl"))) == set(after) - set(data.malformed_ids)
    saved = json.loads(backup.sibling(".report.json").read_text())
    assert saved["migrated"] == 114 and saved["requests"]["calls"]["UpdateItem"] == 114
    assert saved["aggregate"]["total"] == sum(
        n for event_id, n in data.participant_counts().items() if event_id not in data.malformed_ids
    )


def test_a_second_run_writes_nothing(dynamodb, live_settings, tmp_path):
    # given a migrated table
    seed(dynamodb, live_settings, events=60, participants=150, malformed=2)
    run_migration(target_for(live_settings), options(tmp_path))
    migrated = raw_items(dynamodb, live_settings.table("events"))
    # when the migration runs again
    again = run_migration(target_for(live_settings), options(tmp_path))
    # then it sends no write, skips every upgraded row, and the table is unchanged
    assert WRITE_OPERATIONS.isdisjoint(again.requests)
    assert again.migrated == 0 and again.tally.count("current") == 58
    assert raw_items(dynamodb, live_settings.table("events")) == migrated


def test_dry_run_writes_nothing(dynamodb, live_settings, tmp_path):
    # given legacy events
    data = seed(dynamodb, live_settings, events=50, participants=120, malformed=3)
    before = raw_items(dynamodb, live_settings.table("events"))
    # when a dry run plans the migration
    dry = plan_migration(target_for(live_settings), options(tmp_path / "backups"))
    # then it only scanned: no write of any kind, no backup, table unchanged
    assert set(dry.requests) <= {"Scan", "DescribeTable"}  # reads only (the estimate asks the table size)
    assert not (tmp_path / "backups").exists()
    assert raw_items(dynamodb, live_settings.table("events")) == before
    # and the plan says what a real run would do
    summary = dry.to_dict()
    assert summary["would_upgrade"] == 47 and summary["refused"] == 3 and dry.exit_code == 0
    assert sum(summary["transitions"].values()) == 47
    assert {p["eventId"] for p in summary["refused_items"]} == set(data.malformed_ids)
    assert summary["sample_diffs"] and summary["source_rows_counted"] == 120
    # and it estimates the real run: one conditional write per event to upgrade, priced
    estimate = summary["estimate"]
    assert estimate["requests"]["UpdateItem (conditional, one per item to upgrade)"] == 47
    assert estimate["write units"] >= 47 and estimate["on-demand price (USD)"] > 0
    # and it prices the live path's strategies for these small events: the recount stays
    live = estimate["live path per record"]
    assert (live["declared"], live["would choose"]) == ("recount", "recount") and "mirror" in live["why"]
    assert live["mirror (USD per million records)"] == 2.5 > live["recount (USD per million records)"]


def test_cli_refuses_without_yes_and_a_terminal(dynamodb, live_settings, tmp_path):
    # given legacy events
    seed(dynamodb, live_settings, events=20, participants=40, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    # when migrate runs without --yes and without a terminal
    result = CliRunner().invoke(cli, ["migrate", "--endpoint-url", live_settings.endpoint_url, "--backup-dir", str(tmp_path)])
    # then it refuses with exit code 3 and writes nothing
    assert result.exit_code == 3, result.output
    assert "Error: refused" in result.output
    assert raw_items(dynamodb, live_settings.table("events")) == before


def test_cli_with_yes_prints_the_json_report_and_exits_1_on_malformed_rows(dynamodb, live_settings, tmp_path):
    # given legacy events, two of them malformed
    data = seed(dynamodb, live_settings, events=30, participants=60, malformed=2)
    # when migrate runs with --yes --json
    result = CliRunner().invoke(
        cli,
        ["migrate", "--endpoint-url", live_settings.endpoint_url, "--backup-dir", str(tmp_path),
         "--yes", "--json", "--writers", "3", "--rate-limit", "500"],
    )
    # then it exits 1 because of the refused rows and the JSON report on stdout lists them
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["migrated"] == 28 and report["refused"] == 2
    assert {p["eventId"] for p in report["refused_items"]} == set(data.malformed_ids)
    assert report["status_distribution"] and report["aggregate"]["source_rows_counted"] == 60
    # and the same report is saved beside the backup
    saved = json.loads((tmp_path / f"{report['run_id']}.report.json").read_text())
    assert saved["migrated"] == 28


def test_two_workers_split_the_table_by_segment(dynamodb, live_settings, tmp_path):
    # given legacy events
    seed(dynamodb, live_settings, events=40, participants=80, malformed=0)
    # when two workers each take one of two segments
    reports = [
        run_migration(target_for(live_settings), options(tmp_path, segment=k, total_segments=2)) for k in (0, 1)
    ]
    # then their run ids carry the segment, they split the items, and together migrate all
    assert "seg0of2" in reports[0].run_id and "seg1of2" in reports[1].run_id
    assert sum(r.backup_items for r in reports) == 40 and all(r.backup_items for r in reports)
    assert sum(r.migrated for r in reports) == 40
    assert all(validate_item(to_python(i)) == [] for i in raw_items(dynamodb, live_settings.table("events")).values())


def test_an_item_whose_write_fails_is_recorded_and_the_run_goes_on(dynamodb, live_settings, tmp_path):
    # given legacy events and an endpoint that fails every write of one of them
    seed(dynamodb, live_settings, events=20, participants=30, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    victim = sorted(before)[5]
    target = target_for(live_settings)

    def fail_victim(params, **_):
        if params["Key"]["eventId"]["S"] == victim:
            raise RuntimeError("disk on fire")

    target.dynamodb.meta.events.register("before-parameter-build.dynamodb.UpdateItem", fail_victim)
    # when the migration runs
    report = run_migration(target, options(tmp_path))
    # then the failure is reported by key and reason, the others are migrated, exit code 1
    assert report.tally.failed == [{"eventId": victim, "reasons": ["RuntimeError: disk on fire"]}]
    assert report.migrated == 19 and report.exit_code == 1
    assert raw_items(dynamodb, live_settings.table("events"))[victim] == before[victim]


def test_rows_changed_after_the_backup_are_reread_never_overwritten(dynamodb, live_settings, tmp_path):
    # given legacy events, and an old app that changes three of them after the backup was taken
    seed(dynamodb, live_settings, events=15, participants=20, malformed=0)
    ids = sorted(raw_items(dynamodb, live_settings.table("events")))
    edited, deleted, restarted = ids[1], ids[2], ids[3]
    table = live_settings.table("events")

    def old_app_writes(plan, backup):
        dynamodb.update_item(TableName=table, Key={"eventId": {"S": edited}},
                             UpdateExpression="SET organizerId = :o", ExpressionAttributeValues={":o": {"S": "org-new"}})
        dynamodb.delete_item(TableName=table, Key={"eventId": {"S": deleted}})
        dynamodb.update_item(TableName=table, Key={"eventId": {"S": restarted}},
                             UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":s": {"S": "active"}})

    # when the migration runs (the old app writing between backup and migration)
    report = run_migration(target_for(live_settings), options(tmp_path), MigrationHooks(confirm=old_app_writes))
    after = {k: to_python(v) for k, v in raw_items(dynamodb, table).items()}
    # then the app's change is kept, the deleted row stays deleted, the new status is upgraded
    assert after[edited]["organizerId"] == "org-new" and after[edited]["schemaVersion"] == 2
    assert deleted not in after and report.tally.count("gone") == 1
    assert after[restarted]["status"] == "live" and "startedAt" in after[restarted]
    assert report.migrated == 14 and report.exit_code == 0
