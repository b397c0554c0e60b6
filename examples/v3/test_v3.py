"""The next migration (v2 -> v3, ``examples/v3/schema.py``) end to end, with v3 active: the
backfill, the live path, verify and restore pick it up with no change of their own.

This file follows the "The next schema change" recipe (docs/how-to/next-schema-change.md) step by step. Every input is
written out here by hand (typed DynamoDB JSON, and a Lambda event in AWS's documented format
in ``events/``), never produced by the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backfill.migrate import MigrationOptions, run_migration
from backfill.restore import RestoreOptions, run_restore
from backfill.run.backup import iter_backup_items, newest_backup
from backfill.table.target import Target
from backfill.verify import FindingKind, VerifyOptions, run_verify
from chalicelib.items import to_python
from chalicelib.schema import use_schema, validate_item
from chalicelib.streams import process_target_batch
from chalicelib.streams.dependencies import Dependencies
from examples.v3.schema import V3

HERE = Path(__file__).parent

# Rows as the v1 app and the v2 app left them.
V1_ROWS: list[dict[str, Any]] = [
    {"eventId": {"S": "v1-waiting"}, "name": {"S": "Quiz"}, "status": {"S": "waiting"},
     "createdAt": {"N": "1700000000000"}, "organizerId": {"S": "org-1"}},
    {"eventId": {"S": "v1-completed"}, "name": {"S": "Retro"}, "status": {"S": "completed"},
     "createdAt": {"N": "1704067199000"}},
]
V2_ROWS: list[dict[str, Any]] = [
    {"eventId": {"S": "v2-live"}, "name": {"S": "Town hall"}, "status": {"S": "live"},
     "visibility": {"S": "public"}, "isTemplate": {"BOOL": True}, "topic": {"S": "Roadmap"},
     "createdAt": {"N": "1767225000000"}, "lastModified": {"N": "1767225300000"},
     "startedAt": {"N": "1767225300000"}, "participantCount": {"N": "1"}, "countVersion": {"N": "1"},
     "schemaVersion": {"N": "2"}},
]
PARTICIPANTS = [("v1-waiting", "p1"), ("v1-waiting", "p2"), ("v2-live", "p1")]


@pytest.fixture
def v3() -> Iterator[None]:
    """Step 2 of the recipe: the new declaration is the active schema (here for the test only)."""
    with use_schema(V3):
        yield


@pytest.fixture
def target(live_settings, dynamodb) -> Target:
    for item in V1_ROWS + V2_ROWS:
        dynamodb.put_item(TableName=live_settings.table("events"), Item=item)
    for event_id, participant_id in PARTICIPANTS:
        dynamodb.put_item(TableName=live_settings.table("participants"),
                          Item={"eventId": {"S": event_id}, "participantId": {"S": participant_id}})
    return Target(settings=live_settings)


def table(dynamodb, name: str) -> dict[str, dict[str, Any]]:
    items = dynamodb.scan(TableName=name, ConsistentRead=True)["Items"]
    return {item["eventId"]["S"]: item for item in items}


def test_backfill_takes_v1_and_v2_rows_to_v3(v3, target, dynamodb, live_settings, tmp_path):
    # when the backfill runs (recipe step 4: dry run, then migrate)
    report = run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    # then every row is a valid v3 event
    rows = {event_id: to_python(item) for event_id, item in table(dynamodb, live_settings.table("events")).items()}
    assert report.tally.count("upgraded") == 3
    for event_id, row in rows.items():
        assert validate_item(row) == [], event_id
        assert row["schemaVersion"] == 3 and row["language"] == "en", event_id
    # and v3's derived field follows from createdAt (UTC day), v2's values and v1's extras are kept
    assert rows["v1-waiting"]["createdDay"] == "2023-11-14" and rows["v1-waiting"]["status"] == "setup"
    assert rows["v1-completed"]["createdDay"] == "2023-12-31" and rows["v1-waiting"]["organizerId"] == "org-1"
    assert rows["v2-live"]["createdDay"] == "2025-12-31" and rows["v2-live"]["visibility"] == "public"
    assert rows["v2-live"]["startedAt"] == 1767225300000 and rows["v1-waiting"]["participantCount"] == 2


def test_the_live_path_repairs_a_legacy_whole_item_put_over_a_v3_row(v3, target, dynamodb, live_settings):
    # given a v3 row that an old (v1) writer then saved whole, completing the event
    event = json.loads((HERE / "events" / "legacy_put_over_v3.json").read_text(encoding="utf-8"))
    new_image = event["Records"][0]["dynamodb"]["NewImage"]
    dynamodb.put_item(TableName=live_settings.table("events"), Item=new_image)
    dynamodb.put_item(TableName=live_settings.table("participants"),
                      Item={"eventId": {"S": "e-v3"}, "participantId": {"S": "p1"}})
    # when the events stream handler gets the record
    result = process_target_batch(event, Dependencies(live_settings, dynamodb))
    # then the row is v3 again: v3's field carried from the old image, the derived one recomputed,
    # the completion dated by the record, the earlier start kept
    assert result.stats["upgraded"] == 1 and result.failed_sequence_numbers == []
    row = to_python(table(dynamodb, live_settings.table("events"))["e-v3"])
    assert validate_item(row) == []
    assert row["language"] == "de" and row["createdDay"] == "2025-12-31" and row["topic"] == "Bier"
    assert row["status"] == "completed" and row["startedAt"] == 1767225300000
    assert row["completedAt"] == 1767229200000 and row["legacyNote"] == "saved by the v1 app"


def test_verify_passes_on_the_migrated_table_and_fails_on_a_tampered_row(v3, target, dynamodb, live_settings, tmp_path):
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    # then verify passes
    assert run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2)).ok
    # when a row's derived field no longer follows from its data
    dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": {"S": "v1-waiting"}},
                         UpdateExpression="SET createdDay = :d", ExpressionAttributeValues={":d": {"S": "1999-12-31"}})
    # then verify fails on exactly that row, naming the field (and, asked to, the values)
    result = run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2, show_values=True))
    assert not result.ok and result.failing_names() == {"v1-waiting"} == result.ids_of(FindingKind.INVALID)
    [finding] = [f for f in result.failures if f.name == "v1-waiting"]
    assert "createdDay '1999-12-31' does not follow from createdAt" in finding.reason


def test_restore_returns_the_v3_table_to_its_backup(v3, target, dynamodb, live_settings, tmp_path):
    before = table(dynamodb, live_settings.table("events"))
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    # when restored from the run's backup
    backup = newest_backup(tmp_path, live_settings.table("events"))
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path, backup_dir=tmp_path))
    # then every row is exactly as before the migration, as the backup holds it
    assert result.ok and result.ids("restored") == set(before)
    after = table(dynamodb, live_settings.table("events"))
    assert after == before
    assert {t["eventId"]["S"]: t for _, t in iter_backup_items(backup)} == before
