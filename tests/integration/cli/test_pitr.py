"""Point-in-time recovery as the second net: migrate and restore check it before any write, refuse
with --require-pitr (exit 3, one line with the command that enables it), warn without; the dry run
reports it. What the endpoint says is read independently with a raw DescribeContinuousBackups:
moto keeps PITR per table, DynamoDB Local does not know the operation (state unknown)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.migrate_helpers import raw_items, seed

REFUSED = 3
ENABLE = "aws dynamodb update-continuous-backups --table-name {table} " \
         "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"


def endpoint_knows_pitr(dynamodb: Any, table: str) -> bool:
    try:
        dynamodb.describe_continuous_backups(TableName=table)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "UnknownOperationException"
        return False
    return True


@pytest.fixture
def legacy(dynamodb: Any, live_settings: Any) -> dict[str, Any]:
    seed(dynamodb, live_settings, events=5, participants=10, malformed=0)
    return raw_items(dynamodb, live_settings.table("events"))


def test_migrate_with_require_pitr_refuses_a_table_without_it_before_any_write(dynamodb, live_settings, backfill,
                                                                              workdir, legacy):
    # given a table whose PITR is off (moto's default) or cannot be known (DynamoDB Local)
    table = live_settings.table("events")
    known = endpoint_knows_pitr(dynamodb, table)
    # when migrate runs with --require-pitr
    result = backfill("migrate", "--yes", "--require-pitr", "--backup-dir", str(workdir / "runs"))
    # then one line names the table, the state and the command that enables PITR; exit 3; nothing written
    [error] = result.errors()
    assert result.exit_code == REFUSED, result.output
    assert f"point-in-time recovery of table {table!r} is " + ("off" if known else "unknown") in error
    assert ENABLE.format(table=table) in error
    assert raw_items(dynamodb, table) == legacy
    assert not (workdir / "runs").exists() or list((workdir / "runs").iterdir()) == []


def test_migrate_without_the_flag_warns_and_runs(dynamodb, live_settings, backfill, workdir, legacy):
    result = backfill("migrate", "--yes", "--backup-dir", str(workdir / "runs"))
    assert result.exit_code == 0, result.output
    assert "Warning: point-in-time recovery of table" in result.stderr
    assert ENABLE.format(table=live_settings.table("events")) in " ".join(result.stderr.split())
    assert raw_items(dynamodb, live_settings.table("events")) != legacy


def test_the_dry_run_reports_pitrs_state_and_refuses_nothing(dynamodb, live_settings, backfill, legacy):
    table = live_settings.table("events")
    result = backfill("migrate", "--dry-run", "--require-pitr", "--json")
    assert result.exit_code == 0, result.output
    assert result.json()["pitr"]["status"] == ("DISABLED" if endpoint_knows_pitr(dynamodb, table) else "UNKNOWN")
    assert f"Point-in-time recovery of {table}:" in result.stderr


@pytest.mark.needs_aws(reason="needs UpdateContinuousBackups, which DynamoDB Local does not implement")
def test_with_pitr_on_migrate_and_restore_run_under_require_pitr(dynamodb, live_settings, backfill, workdir, legacy):
    # given PITR turned on with a raw call
    table = live_settings.table("events")
    dynamodb.update_continuous_backups(TableName=table,
                                       PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    # when migrate and then restore run with --require-pitr
    migrated = backfill("migrate", "--yes", "--json", "--require-pitr", "--backup-dir", str(workdir / "runs"))
    assert migrated.exit_code == 0, migrated.output
    assert "Point-in-time recovery of" in migrated.stderr and "Warning" not in migrated.stderr
    restored = backfill("restore", migrated.json()["backup_file"], "--yes", "--require-pitr",
                        "--backup-dir", str(workdir / "runs"))
    # then both ran: the table is back as it was
    assert restored.exit_code == 0, restored.output
    assert raw_items(dynamodb, table) == legacy


def test_restore_with_require_pitr_refuses_a_table_without_it(dynamodb, live_settings, backfill, workdir, legacy):
    # given a migrated table, then PITR not on
    migrated = backfill("migrate", "--yes", "--json", "--backup-dir", str(workdir / "runs"))
    assert migrated.exit_code == 0, migrated.output
    after = raw_items(dynamodb, live_settings.table("events"))
    # when restore runs with --require-pitr (from the environment, as a Batch job sets it)
    result = backfill("restore", migrated.json()["backup_file"], "--yes", "--backup-dir", str(workdir / "runs"),
                      env={"BACKFILL_REQUIRE_PITR": "1"})
    # then it refuses in one line with the enabling command; nothing restored
    [error] = result.errors()
    assert result.exit_code == REFUSED, result.output
    assert ENABLE.format(table=live_settings.table("events")) in error
    assert raw_items(dynamodb, live_settings.table("events")) == after


@pytest.mark.parametrize(("marked", "refused"), [(True, True), (False, False)], ids=["production stage", "other stage"])
def test_a_stage_marked_production_requires_pitr_without_the_flag(dynamodb, live_settings, backfill, workdir, legacy,
                                                                 marked, refused):
    # given a Chalice config whose stage names the test tables, marked production or not
    environment = {"EVENTS_TABLE": live_settings.table("events"), "PARTICIPANTS_TABLE": live_settings.table("participants"),
                   "FAILURES_TABLE": live_settings.failures_table}
    if marked:
        environment["BACKFILL_REQUIRE_PITR"] = "true"
    config = workdir / "config.json"
    config.write_text(json.dumps({"version": "2.0", "app_name": "app", "stages": {
        "prod": {"environment_variables": environment}}}))
    # when migrate runs on that stage, without --require-pitr
    result = backfill("migrate", "--yes", "--stage", "prod", "--chalice-config", str(config),
                      "--backup-dir", str(workdir / "runs"), drop=("EVENTS_TABLE", "PARTICIPANTS_TABLE", "FAILURES_TABLE"))
    # then the production stage refuses in one line naming the stage; another stage only warns
    if refused:
        [error] = result.errors()
        assert result.exit_code == REFUSED, result.output
        assert "stage 'prod' requires it (BACKFILL_REQUIRE_PITR in" in error
        assert raw_items(dynamodb, live_settings.table("events")) == legacy
    else:
        assert result.exit_code == 0, result.output
        assert "Warning: point-in-time recovery" in result.stderr


def backup_of(backfill: Any, workdir: Any) -> str:
    """A backup file of the seeded table (taken by a migrate, which warns about PITR and runs)."""
    migrated = backfill("migrate", "--yes", "--json", "--backup-dir", str(workdir / "runs"))
    assert migrated.exit_code == 0, migrated.output
    return str(migrated.json()["backup_file"])


def empty_copy_of(dynamodb: Any, table: str) -> str:
    """An empty table with the events table's key schema (raw CreateTable), PITR off."""
    copy = f"{table}-copy"
    dynamodb.create_table(TableName=copy, KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    dynamodb.get_waiter("table_exists").wait(TableName=copy, WaiterConfig={"Delay": 1})
    return copy


def test_restore_to_table_with_require_pitr_refuses_a_table_without_it(dynamodb, live_settings, backfill, workdir,
                                                                       legacy):
    # given a backup and an empty table whose PITR is off (moto) or unknown (DynamoDB Local)
    backup = backup_of(backfill, workdir)
    copy = empty_copy_of(dynamodb, live_settings.table("events"))
    known = endpoint_knows_pitr(dynamodb, copy)
    # when the backup is bulk-restored into it with --require-pitr
    result = backfill("restore", backup, "--to-table", copy, "--yes", "--require-pitr")
    # then, as migrate and the in-place restore, one line names the table, its state and the
    # command that enables PITR; exit 3; nothing written
    [error] = result.errors()
    assert result.exit_code == REFUSED, result.output
    assert f"point-in-time recovery of table {copy!r} is " + ("off" if known else "unknown") in error
    assert ENABLE.format(table=copy) in error
    assert raw_items(dynamodb, copy) == {}


def test_restore_to_table_without_the_flag_warns_and_writes(dynamodb, live_settings, backfill, workdir, legacy):
    backup = backup_of(backfill, workdir)
    copy = empty_copy_of(dynamodb, live_settings.table("events"))
    result = backfill("restore", backup, "--to-table", copy, "--yes")
    assert result.exit_code == 0, result.output
    assert f"Warning: point-in-time recovery of table {copy} is" in " ".join(result.stderr.split())
    assert raw_items(dynamodb, copy) == legacy


def test_restore_to_a_created_table_under_require_pitr_turns_pitr_on_first(dynamodb, live_settings, backfill,
                                                                           workdir, legacy):
    # given a backup and no table of the name yet
    backup = backup_of(backfill, workdir)
    copy = f"{live_settings.table('events')}-created"
    knows = endpoint_knows_pitr(dynamodb, live_settings.table("events"))
    # when it is bulk-restored into a table the command creates, with --require-pitr
    result = backfill("restore", backup, "--to-table", copy, "--create-table", "--yes", "--require-pitr")
    if knows:
        # then the created table has PITR on (a raw DescribeContinuousBackups says so) and every item
        assert result.exit_code == 0, result.output
        described = dynamodb.describe_continuous_backups(TableName=copy)["ContinuousBackupsDescription"]
        assert described["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        assert raw_items(dynamodb, copy) == legacy
    else:
        # (DynamoDB Local cannot turn PITR on) then it refuses in one line, nothing written into the table
        [error] = result.errors()
        assert result.exit_code == REFUSED, result.output
        assert f"point-in-time recovery of table {copy!r} is unknown" in error
        assert raw_items(dynamodb, copy) == {}
