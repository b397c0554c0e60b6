"""`backfill restore` undoes exactly what the migration wrote, never an application's change.

The migration's ledger records the state each write was computed from; restore reverts a row to
that state (not to the older backup) and reports a row changed after the migration's write as a
conflict. Each scenario ends with `python -m backfill restore` in its own process.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from backfill.migrate import MigrationHooks, run_migration
from tests.integration.faults.injection import Killed
from tests.integration.migrate_helpers import options, raw_items, target_for, unseal
from tests.support.cli import run_backfill


def legacy(event_id: str, status: str = "waiting") -> dict[str, Any]:
    return {"eventId": {"S": event_id}, "name": {"S": f"Event {event_id}"}, "status": {"S": status},
            "createdAt": {"N": "1700000000000"}, "organizerId": {"S": "org-1"}}


@pytest.fixture
def table(dynamodb, live_settings):
    for event_id in ("a", "b", "c", "d"):
        dynamodb.put_item(TableName=live_settings.table("events"), Item=legacy(event_id))
    return live_settings.table("events")


def start(dynamodb, table, event_id):
    """The old application moves an event from waiting to active."""
    dynamodb.update_item(TableName=table, Key={"eventId": {"S": event_id}}, UpdateExpression="SET #s = :s",
                         ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "active"}})


def restore(live_settings, backup_file, backup_dir):
    run = run_backfill("restore", str(backup_file), "--yes", "--json", "--endpoint-url", live_settings.endpoint_url,
                       "--backup-dir", str(backup_dir))
    return run, run.json()


def outcomes(result):
    return {item["eventId"]: item["outcome"] for item in result["items"]}


def test_app_change_between_backup_and_migration_write_survives_restore(dynamodb, live_settings, table, tmp_path):
    # given a migration during which the old app starts event b after the backup, before its write
    report = run_migration(target_for(live_settings), options(tmp_path),
                           MigrationHooks(confirm=lambda plan, backup: start(dynamodb, table, "b")))
    assert report.migrated == 4
    migrated = raw_items(dynamodb, table)
    assert migrated["b"]["status"] == {"S": "live"} and "startedAt" in migrated["b"]
    # when the migration is restored by the CLI
    run, result = restore(live_settings, report.backup_file, tmp_path)
    # then b is back to the state the migration upgraded (the app's active), not the backup's waiting
    assert run.exit_code == 0, run.stdout + run.stderr
    assert result["counts"] == {"restored": 4}
    after = raw_items(dynamodb, table)
    assert after["b"] == {**legacy("b"), "status": {"S": "active"}}
    assert all(after[e] == legacy(e) for e in ("a", "c", "d"))


def test_app_change_after_the_migration_write_is_a_conflict_and_kept(dynamodb, live_settings, table, tmp_path):
    # given a migrated table (by the CLI), then the app edits two events
    migrated = run_backfill("migrate", "--yes", "--json", "--endpoint-url", live_settings.endpoint_url,
                            "--backup-dir", str(tmp_path))
    assert migrated.exit_code == 0, migrated.stderr
    dynamodb.update_item(TableName=table, Key={"eventId": {"S": "c"}}, UpdateExpression="SET #s = :s",
                         ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "live"}})
    dynamodb.update_item(TableName=table, Key={"eventId": {"S": "d"}}, UpdateExpression="SET organizerId = :o",
                         ExpressionAttributeValues={":o": {"S": "org-2"}})
    changed = raw_items(dynamodb, table)
    # when restored
    run, result = restore(live_settings, migrated.json()["backup_file"], tmp_path)
    # then both are conflicts, skipped with their newer data; the others are restored
    assert run.exit_code == 1
    assert outcomes(result) == {"c": "conflict_skipped", "d": "conflict_skipped"}
    after = raw_items(dynamodb, table)
    assert after["c"] == changed["c"] and after["d"] == changed["d"]
    assert after["a"] == legacy("a") and after["b"] == legacy("b")


def test_ledger_entry_whose_write_never_landed(dynamodb, live_settings, table, tmp_path):
    # given a run that dies right after recording its write of event a in the ledger, before sending it
    target = target_for(live_settings)

    def die_on_a(params, **_):
        if params["Key"]["eventId"]["S"] == "a":
            raise Killed("process died between ledger and write")

    target.dynamodb.meta.events.register("before-parameter-build.dynamodb.UpdateItem", die_on_a)
    with pytest.raises(Killed):
        run_migration(target, options(tmp_path, workers=1, segments=1))
    [ledger] = tmp_path.glob("*.ledger.jsonl")
    assert "a" in {json.loads(line)["item"] for line in ledger.read_text().splitlines()}
    assert raw_items(dynamodb, table)["a"] == legacy("a")
    [backup_file] = tmp_path.glob("*.jsonl.gz")
    # when restored
    run, result = restore(live_settings, backup_file, tmp_path)
    # then a, which the migration never wrote, is unchanged; what it did write is undone
    assert run.exit_code == 0, run.stdout + run.stderr
    assert result["counts"].get("unchanged", 0) >= 1 and "a" not in outcomes(result)
    assert raw_items(dynamodb, table) == {e: legacy(e) for e in ("a", "b", "c", "d")}


def test_write_that_never_landed_on_a_row_the_app_changed_is_a_conflict_and_kept(dynamodb, live_settings, table,
                                                                                 tmp_path):
    # given a run that dies before its write of event a lands, the app having started a after the backup
    target = target_for(live_settings)

    def die_on_a(params, **_):
        if params["Key"]["eventId"]["S"] == "a":
            raise Killed("process died between ledger and write")

    target.dynamodb.meta.events.register("before-parameter-build.dynamodb.UpdateItem", die_on_a)
    with pytest.raises(Killed):
        run_migration(target, options(tmp_path, workers=1, segments=1),
                      MigrationHooks(confirm=lambda plan, backup: start(dynamodb, table, "a")))
    [backup_file] = tmp_path.glob("*.jsonl.gz")
    # when restored
    run, result = restore(live_settings, backup_file, tmp_path)
    # then a keeps the app's change (listed as changed since the backup), nothing else is lost
    assert outcomes(result) == {"a": "conflict_skipped"} and run.exit_code == 1
    assert raw_items(dynamodb, table)["a"] == {**legacy("a"), "status": {"S": "active"}}


def test_a_ledger_line_without_the_state_read_is_refused_before_any_write(dynamodb, live_settings, table, tmp_path):
    # given a migration whose ledger has lost the "read" of every line (damaged: each attempt records it)
    report = run_migration(target_for(live_settings), options(tmp_path))
    [ledger] = tmp_path.glob("*.ledger.jsonl")
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    ledger.write_text("".join(json.dumps({"item": e["item"], "changes": e["changes"]}) + "\n" for e in lines))
    migrated = raw_items(dynamodb, table)
    unseal(tmp_path, report.run_id)  # a run from before sealing (a sealed one is refused by its seal first)
    # when restored by the CLI
    run = run_backfill("restore", str(report.backup_file), "--yes", "--endpoint-url", live_settings.endpoint_url,
                       "--backup-dir", str(tmp_path))
    # then it exits 2 with one Error line naming the ledger and its first line, and wrote nothing
    [error] = run.errors()
    assert run.exit_code == 2, run.output
    assert ledger.name in error and "line 1 is not a ledger entry" in error
    assert raw_items(dynamodb, table) == migrated
