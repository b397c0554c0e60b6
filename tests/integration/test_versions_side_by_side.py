"""Versions side by side: a live path or a backfill of version N meeting rows a newer deployment
(N+1) already wrote leaves them untouched, under an outcome of their own (not a refusal recorded
in the failures table, not a retry). Inputs written out by hand; checks with plain boto3 reads."""

from __future__ import annotations

import json
from pathlib import Path

from backfill.migrate import MigrationOptions, plan_migration, run_migration
from backfill.table.target import Target
from backfill.verify import FindingKind, VerifyOptions, run_verify
from chalicelib.streams import process_target_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.failures import FailureStore

EVENTS = Path(__file__).resolve().parents[1] / "events"

V1_ROW = {"eventId": {"S": "e-v1"}, "name": {"S": "Retro"}, "status": {"S": "waiting"},
          "createdAt": {"N": "1767225000000"}}
V3_ROW = {"eventId": {"S": "e-v3"}, "name": {"S": "Quiz"}, "status": {"S": "setup"}, "visibility": {"S": "public"},
          "isTemplate": {"BOOL": False}, "createdAt": {"N": "1767225000000"}, "lastModified": {"N": "1767225000000"},
          "participantCount": {"N": "0"}, "countVersion": {"N": "1"}, "summary": {"S": "Pub quiz"},
          "status_note": {"S": "a v3 attribute"}, "schemaVersion": {"N": "3"}}


def rows(dynamodb, table: str) -> dict[str, dict]:
    return {item["eventId"]["S"]: item for item in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]}


def test_the_live_path_leaves_a_row_of_a_newer_version_untouched(dynamodb, live_settings):
    # given a row the v3 application wrote (its record in a hand-written Lambda event)
    event = json.loads((EVENTS / "events_newer_version.json").read_text(encoding="utf-8"))
    image = event["Records"][0]["dynamodb"]["NewImage"]
    dynamodb.put_item(TableName=live_settings.table("events"), Item=image)
    # when the v2 live path gets the record
    result = process_target_batch(event, Dependencies(live_settings, dynamodb))
    # then it is counted as newer_version: no write, no failure recorded, nothing retried
    assert result.stats["newer_version"] == 1 and result.failed_sequence_numbers == []
    assert rows(dynamodb, live_settings.table("events"))["e-v3"] == image
    assert list(FailureStore(dynamodb, live_settings.failures_table).scan()) == []


def test_the_backfill_never_rewrites_a_row_of_a_newer_version(dynamodb, live_settings, tmp_path):
    # given a v1 row and a row the v3 application wrote
    for item in (V1_ROW, V3_ROW):
        dynamodb.put_item(TableName=live_settings.table("events"), Item=item)
    target = Target(settings=live_settings)
    # when the v2 backfill plans and runs
    dry = plan_migration(target, MigrationOptions(backup_dir=tmp_path, segments=1))
    report = run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=1))
    # then the v3 row is left exactly as it was, counted apart (not refused: exit code 0)
    assert dry.plan.to_dict()["newer_version"] == 1 and dry.plan.refused == 0
    assert report.to_dict()["newer_version"] == 1 and report.exit_code == 0 and report.tally.count("upgraded") == 1
    after = rows(dynamodb, live_settings.table("events"))
    assert after["e-v3"] == V3_ROW and after["e-v1"]["schemaVersion"] == {"N": "2"}


def test_verify_notes_a_row_of_a_newer_version_instead_of_failing_it(dynamodb, live_settings, tmp_path):
    # given a migrated v1 row and a row the v3 application wrote since
    dynamodb.put_item(TableName=live_settings.table("events"), Item=V1_ROW)
    target = Target(settings=live_settings)
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=1))
    dynamodb.put_item(TableName=live_settings.table("events"), Item=V3_ROW)
    # when the v2 verify runs, then the v3 row is a note of its own and verification passes
    result = run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=1))
    assert result.ok and result.ids_of(FindingKind.NEWER_VERSION) == {"e-v3"}
