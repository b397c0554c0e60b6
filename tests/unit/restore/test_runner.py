"""run_restore edge cases (in-process moto): no ledger, a backup of some segments only."""

import pytest

from backfill.restore import (
    Action,
    RestoreOptions,
    RestoreRefused,
    execute_restore,
    plan_restore,
    run_restore,
    runner,
)
from backfill.run.backup import write_json
from backfill.run.ledger import LEDGER_SUFFIX
from backfill.table.backup import create_backup
from backfill.table.target import Target
from chalicelib.items import to_typed
from localdev import legacy_data
from tests.support.migrated_table import migrate_like_backfill


@pytest.fixture
def target(dynamodb, settings):
    target = Target(settings=settings)
    target.dynamodb = dynamodb
    return target


def seed(dynamodb, settings, events=20):
    data = legacy_data.generate(events=events, participants=40, seed=2)
    legacy_data.seed_tables(dynamodb, settings.table("events"), settings.table("participants"), data)
    return data


def test_without_a_ledger_items_as_the_rule_migrates_them_are_restored(dynamodb, settings, target, tmp_path):
    data = seed(dynamodb, settings)
    backup = migrate_like_backfill(dynamodb, settings, tmp_path)
    # a run of a version from before ledgers (and seals): no ledger, no seal, a manifest that claims none
    backup.sibling(LEDGER_SUFFIX).unlink()
    backup.sibling(".seal.json").unlink()
    write_json(backup.store, backup.manifest_name, {**backup.manifest, "sealed": False})
    # an app change is still a conflict
    dynamodb.update_item(TableName=settings.table("events"), Key={"eventId": {"S": data.events[0]["eventId"]}},
                         UpdateExpression="SET organizerId = :o", ExpressionAttributeValues={":o": {"S": "org-x"}})
    plan = plan_restore(target, RestoreOptions(backup_file=backup.manifest_path))
    assert not plan.ledger_found
    assert plan.counts()[Action.RESTORE.value] == len(data.events) - 1
    assert [p.item_name for p in plan.conflicts] == [data.events[0]["eventId"]]


def test_items_outside_a_partial_backups_segments_are_not_new(dynamodb, settings, target, tmp_path):
    seed(dynamodb, settings, events=30)
    backup = create_backup(dynamodb, settings.table("events"), tmp_path, region=settings.region, endpoint="x",
                           total_segments=3, segments=[1])
    plan = plan_restore(target, RestoreOptions(backup_file=backup.data_path))
    assert plan.counts()[Action.NEW.value] == 0
    assert plan.counts()[Action.UNCHANGED.value] == backup.item_count < 30


def test_a_backup_of_another_table_is_refused(dynamodb, settings, target, tmp_path):
    dynamodb.put_item(TableName=settings.table("participants"), Item=to_typed({"eventId": "e", "participantId": "p"}))
    other = create_backup(dynamodb, settings.table("participants"), tmp_path, region=settings.region, endpoint="x")
    with pytest.raises(RestoreRefused, match="not 'events'"):
        run_restore(target, RestoreOptions(backup_file=other.data_path))


def test_restore_when_an_item_was_deleted_during_the_run_is_reported(dynamodb, settings, target, tmp_path):
    seed(dynamodb, settings, events=5)
    backup = migrate_like_backfill(dynamodb, settings, tmp_path)
    plan = plan_restore(target, RestoreOptions(backup_file=backup.data_path))
    victim = plan.items[0].item_name
    dynamodb.delete_item(TableName=settings.table("events"), Key={"eventId": {"S": victim}})
    result = execute_restore(target, plan)
    assert result.ids("deleted_skipped") == {victim} and len(result.ids("restored")) == 4
    assert not result.ok
    assert victim in backup.sibling(".restore-report.json").read_text()


def test_a_write_error_is_reported_per_item_and_the_rest_goes_on(dynamodb, settings, target, tmp_path, monkeypatch):
    seed(dynamodb, settings, events=6)
    backup = migrate_like_backfill(dynamodb, settings, tmp_path)
    plan = plan_restore(target, RestoreOptions(backup_file=backup.data_path))
    broken = plan.items[2].item_name
    real = runner.revert_fields

    def flaky(dynamodb, table, read, *args, **kwargs):
        if read["eventId"]["S"] == broken:
            raise RuntimeError("ProvisionedThroughputExceeded after retries")
        return real(dynamodb, table, read, *args, **kwargs)

    monkeypatch.setattr(runner, "revert_fields", flaky)
    result = execute_restore(target, plan)
    assert not result.ok
    [failed] = [o for o in result.outcomes if o.outcome == "failed"]
    assert failed.item_name == broken and "ProvisionedThroughputExceeded" in failed.reason
    assert len(result.ids("restored")) == 5
