"""The whole chain with the real migrate entry point: migrate -> verify -> live change -> restore."""

from __future__ import annotations

from backfill.migrate.runner import MigrationOptions, run_migration
from backfill.restore import RestoreOptions, run_restore
from backfill.run.backup import iter_backup_items, newest_backup
from backfill.table.compare import differing_attributes
from backfill.table.scan import parallel_scan
from backfill.table.target import Target
from backfill.verify import FindingKind, VerifyOptions, run_verify
from chalicelib.items import to_python
from localdev import legacy_data
from tests.integration.test_restore import EVERY_TYPE


def test_migrate_verify_restore(dynamodb, live_settings, tmp_path):
    # given legacy data with every DynamoDB type and two rows the rule must refuse
    data = legacy_data.generate(events=50, participants=150, malformed=2, seed=21)
    legacy_data.seed_tables(dynamodb, live_settings.table("events"), live_settings.table("participants"), data)
    legacy_data.load(dynamodb, live_settings.table("events"), [EVERY_TYPE])
    target = Target(settings=live_settings)
    # when migrated by `backfill migrate`'s entry point, then verify fails exactly on the refused rows
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    verified = run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2))
    assert verified.failing_names() == set(data.malformed_ids) == verified.ids_of(FindingKind.INVALID)
    # given an app change after the migration
    changed = next(e["eventId"] for e in data.events if e["eventId"] not in data.malformed_ids)
    dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": {"S": changed}},
                         UpdateExpression="SET organizerId = :o", ExpressionAttributeValues={":o": {"S": "org-live"}})
    # when restored, then the change is a kept conflict and everything else equals the backup
    backup = newest_backup(tmp_path, live_settings.table("events"))
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path, backup_dir=tmp_path))
    assert result.ids("conflict_skipped") == {changed} and not result.ids("failed")
    live = {t["eventId"]["S"]: to_python(t)
            for page in parallel_scan(dynamodb, live_settings.table("events"), total_segments=1) for t in page.items}
    saved = {t["eventId"]["S"]: to_python(t) for _, t in iter_backup_items(backup)}
    assert set(live) == set(saved)
    for event_id, item in saved.items():
        if event_id != changed:
            assert differing_attributes(item, live[event_id]) == {}, event_id
    assert live[changed]["organizerId"] == "org-live" and live[changed]["schemaVersion"] == 2
    assert live["typed-1"] == EVERY_TYPE
