"""No user data on terminals by default: a marker value planted in the table after a migration never
appears in what verify, restore or failures print (text or --json); verify shows it with --show-values."""

from __future__ import annotations

from typing import Any

from tests.integration.migrate_helpers import raw_items, seed

MARKER = "MARKER-5be1d0-private"


def update(dynamodb: Any, table: str, event_id: str, name: str) -> None:
    dynamodb.update_item(TableName=table, Key={"eventId": {"S": event_id}}, UpdateExpression="SET #a = :v",
                         ExpressionAttributeNames={"#a": name}, ExpressionAttributeValues={":v": {"S": MARKER}})


def test_verify_and_restore_name_attributes_and_types_never_the_planted_value(dynamodb, live_settings, backfill,
                                                                              workdir):
    # given a migrated table where the application then renamed one event and broke another's status
    seed(dynamodb, live_settings, events=4, participants=6, malformed=0)
    runs = str(workdir / "runs")
    migrated = backfill("migrate", "--yes", "--json", "--backup-dir", runs)
    assert migrated.exit_code == 0, migrated.output
    table = live_settings.table("events")
    renamed, broken = sorted(raw_items(dynamodb, table))[:2]
    update(dynamodb, table, renamed, "name")
    update(dynamodb, table, broken, "status")
    # when verify runs (text and --json) and restore runs (conflicts on both items)
    outputs = {
        "verify": backfill("verify", "--backup-dir", runs),
        "verify --json": backfill("verify", "--json", "--backup-dir", runs),
        "restore": backfill("restore", migrated.json()["backup_file"], "--yes", "--json", "--backup-dir", runs),
    }
    # then each names the items and the attributes, and none prints the value
    for what, result in outputs.items():
        assert renamed in result.output and "name" in result.output, what
        assert MARKER not in result.output, what
    # and verify shows the values when asked
    shown = backfill("verify", "--show-values", "--backup-dir", runs)
    assert MARKER in shown.output


def test_migrate_shows_fields_and_types_not_values_unless_asked(dynamodb, live_settings, backfill, workdir):
    # given legacy events, one with a marker in a field the rule refuses and one whose createdAt
    # the migration rewrites (the sample diffs show it)
    seed(dynamodb, live_settings, events=3, participants=3, malformed=0)
    table = live_settings.table("events")
    refused, *_ = sorted(raw_items(dynamodb, table))
    update(dynamodb, table, refused, "status")
    # when the dry run and the migration print their plans and report
    dry = backfill("migrate", "--dry-run")
    run = backfill("migrate", "--yes", "--backup-dir", str(workdir / "runs"))
    # then they name the refused item and the fields, never the value
    for what, result in (("dry run", dry), ("migrate", run)):
        assert result.exit_code in (0, 1), result.output
        assert refused in result.stderr and "<value>" in result.stderr, what
        assert MARKER not in result.output, what
    # and with --show-values the dry run shows it
    shown = backfill("migrate", "--dry-run", "--show-values")
    assert MARKER in shown.stderr
