"""A rename on a live table, ``description`` -> ``summary``, expand then contract
(``examples/rename/schema.py``), on each endpoint.

This file follows the recipe docs/how-to/rename.md step by step: for each phase a dry run,
the migration, verify, the live path meeting old and new writers, and a restore back to before
the phase. Every input is written out by hand (typed DynamoDB JSON here, Lambda events in AWS's
format in ``events/``) and every check reads the table with plain boto3.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from backfill.live.stream_runner import RunStats, StreamRunner
from backfill.migrate import MigrationOptions, plan_migration, run_migration
from backfill.restore import RestoreOptions, run_restore
from backfill.run.backup import newest_backup
from backfill.run.ledger import LedgerError, read_ledger
from backfill.table.target import Target
from backfill.verify import FindingKind, VerifyOptions, run_verify
from chalicelib.item_store import ItemStore
from chalicelib.schema.current import V2
from chalicelib.streams import process_target_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.upgrader import UpgradeResult, upgrade_in_place
from examples.rename.schema import CONTRACT, EXPAND

HERE = Path(__file__).parent


def S(text: str) -> dict[str, str]:
    return {"S": text}


def v2_row(key: str, **extra: Any) -> dict[str, Any]:
    """A row as the v2 app leaves it (typed)."""
    return {"eventId": S(key), "name": S("Quiz"), "status": S("setup"), "visibility": S("private"),
            "isTemplate": {"BOOL": False}, "createdAt": {"N": "1767225000000"},
            "lastModified": {"N": "1767225000000"}, "participantCount": {"N": "0"}, "countVersion": {"N": "1"},
            "schemaVersion": {"N": "2"}, **extra}


def expanded_row(key: str, text: str, **extra: Any) -> dict[str, Any]:
    """A row as the expand phase leaves it: both names, in step, version 3."""
    return v2_row(key, description=S(text), summary=S(text), schemaVersion={"N": "3"}, **extra)


# The table before the expand phase: v2 rows with and without a description, a v1 row with one.
BEFORE_EXPAND = [
    v2_row("e1", description=S("Pub quiz"), organizerId=S("org-1")),
    v2_row("e2"),
    {"eventId": S("e3"), "name": S("Retro"), "status": S("waiting"), "createdAt": {"N": "1767225000000"},
     "description": S("Sprint retro")},
]


def table(dynamodb: Any, name: str) -> dict[str, dict[str, Any]]:
    items = dynamodb.scan(TableName=name, ConsistentRead=True)["Items"]
    return {item["eventId"]["S"]: item for item in items}


def lambda_event(name: str) -> dict[str, Any]:
    return json.loads((HERE / "events" / f"{name}.json").read_text(encoding="utf-8"))


def writers_wrote(dynamodb: Any, table_name: str, event: dict[str, Any]) -> None:
    """Put each item's last new image: the writes the records tell of, as the table holds them."""
    for record in event["Records"]:
        dynamodb.put_item(TableName=table_name, Item=record["dynamodb"]["NewImage"])


@pytest.fixture
def target(live_settings, dynamodb) -> Target:
    for item in BEFORE_EXPAND:
        dynamodb.put_item(TableName=live_settings.table("events"), Item=item)
    dynamodb.put_item(TableName=live_settings.table("participants"), Item={"eventId": S("e3"), "participantId": S("p1")})
    return Target(settings=live_settings)


# --- a write is one UpdateItem, guarded on every attribute the rule read ------------------------

def test_an_old_writer_racing_the_contract_write_is_not_lost(phase, dynamodb, live_settings):
    # given an expanded row, read by the contract phase's backfill
    phase(CONTRACT)
    dynamodb.put_item(TableName=live_settings.table("events"), Item=expanded_row("e1", "Pub quiz"))
    store = ItemStore(dynamodb, live_settings.table("events"))
    as_read = store.get("e1")
    raced = []

    def old_writer_races(plan: Any) -> None:  # right before the conditional write is sent
        if not raced:
            raced.append(plan.removes)
            dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": S("e1")},
                                 UpdateExpression="SET description = :d", ExpressionAttributeValues={":d": S("Edited")})

    # when the write that removes description is sent after the old writer changed description
    outcome = upgrade_in_place(store, as_read, count_source=lambda item: {}, announce=old_writer_races)
    # then that write failed its condition, and the second one moved the old writer's value over
    assert raced == [("description",)] and outcome.result is UpgradeResult.UPGRADED and outcome.attempts == 2
    row = table(dynamodb, live_settings.table("events"))["e1"]
    assert row["summary"] == S("Edited") and "description" not in row and row["schemaVersion"] == {"N": "4"}


def test_a_new_writer_racing_the_expand_write_is_not_lost(phase, dynamodb, live_settings):
    # given a v2 row, read by the expand phase's backfill (it will SET summary from description)
    phase(EXPAND)
    dynamodb.put_item(TableName=live_settings.table("events"), Item=v2_row("e1", description=S("Pub quiz")))
    store = ItemStore(dynamodb, live_settings.table("events"))
    raced: list[Any] = []

    def new_writer_races(plan: Any) -> None:
        if not raced:
            raced.append(dict(plan.changes))
            dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": S("e1")},
                                 UpdateExpression="SET summary = :s", ExpressionAttributeValues={":s": S("By v3")})

    # when the v3 app sets summary between the backfill's read and its write
    outcome = upgrade_in_place(store, store.get("e1"), count_source=lambda item: {}, announce=new_writer_races)
    # then the backfill's write failed and the retry kept the v3 app's summary, copying it back
    assert raced == [{"summary": "Pub quiz", "schemaVersion": 3}] and outcome.attempts == 2
    row = table(dynamodb, live_settings.table("events"))["e1"]
    assert row["summary"] == row["description"] == S("By v3")


# --- the recipe: expand --------------------------------------------------------------------------

def test_expand_dry_run_migrate_verify_and_restore(phase, target, dynamodb, live_settings, tmp_path):
    events = live_settings.table("events")
    before = table(dynamodb, events)
    # 1. declare and activate the expand phase (version 3)
    phase(EXPAND)
    # 2. dry run: each SET shown, nothing written
    dry = plan_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2, samples=5))
    assert dry.plan.would_upgrade == 3 and table(dynamodb, events) == before
    samples = {s["eventId"]: s["changes"] for s in dry.plan.samples}
    assert samples["e1"]["summary"] == {"before": "(absent)", "after": "Pub quiz"}
    assert "description" not in samples["e1"]
    assert dry.plan.to_dict()["writes_per_field"]["SET summary"] == 2  # e2 has no description
    # 3. migrate: every row gets summary from description, description kept
    report = run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    assert report.tally.count("upgraded") == 3
    rows = table(dynamodb, events)
    assert rows["e1"]["summary"] == rows["e1"]["description"] == S("Pub quiz")
    assert rows["e3"]["summary"] == rows["e3"]["description"] == S("Sprint retro")
    assert "summary" not in rows["e2"] and "description" not in rows["e2"]
    assert rows["e1"]["organizerId"] == S("org-1") and rows["e1"]["schemaVersion"] == {"N": "3"}
    # 4. verify
    assert run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2)).ok
    # 5. the v3 app edits e2's summary meanwhile (the live path copies it back to description)
    dynamodb.update_item(TableName=events, Key={"eventId": S("e2")}, UpdateExpression="SET summary = :s",
                         ExpressionAttributeValues={":s": S("Written by v3")})
    # 6. restore back to before the phase: the rows the phase wrote return to their backup; the
    #    one the application changed since is a conflict, left as the application made it
    result = run_restore(target, RestoreOptions(backup_file=newest_backup(tmp_path, events).data_path,
                                                backup_dir=tmp_path))
    after = table(dynamodb, events)
    assert result.ids("restored") == {"e1", "e3"} and result.ids("conflict_skipped") == {"e2"}
    assert after["e1"] == before["e1"] and after["e3"] == before["e3"]
    assert after["e2"]["summary"] == S("Written by v3")


def test_the_expand_restore_runs_with_the_expand_declaration(phase, target, dynamodb, live_settings, tmp_path):
    # given the expand phase migrated (it wrote summary, which version 2 does not own)
    events = live_settings.table("events")
    phase(EXPAND)
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    expanded = table(dynamodb, events)
    backup = newest_backup(tmp_path, events).data_path
    # when its backup is restored with the declaration before the phase, then it refuses before any write
    phase(V2)
    with pytest.raises(LedgerError, match="summary"):
        run_restore(target, RestoreOptions(backup_file=backup, backup_dir=tmp_path))
    assert table(dynamodb, events) == expanded


def test_expand_live_path_keeps_old_writers_in_step(phase, dynamodb, live_settings):
    # given expanded rows that a v2 app then wrote: a whole-item put dropping summary (e-put), an
    # UpdateItem of description (e-update)
    phase(EXPAND)
    event = lambda_event("expand_old_writers")
    writers_wrote(dynamodb, live_settings.table("events"), event)
    # when the live path gets the records
    result = process_target_batch(event, Dependencies(live_settings, dynamodb))
    # then both rows are in step again, each from the v2 app's new description
    assert result.stats["upgraded"] == 2 and result.failed_sequence_numbers == []
    rows = table(dynamodb, live_settings.table("events"))
    assert rows["e-put"]["summary"] == rows["e-put"]["description"] == S("Put by the v2 app")
    assert rows["e-update"]["summary"] == rows["e-update"]["description"] == S("Updated by the v2 app")
    assert rows["e-put"]["schemaVersion"] == {"N": "3"}


def test_expand_in_one_batch_the_later_write_wins(phase, dynamodb, live_settings):
    # given two rows on which the v3 app wrote summary and a v2 app wrote description, in
    # opposite orders, all in one batch
    phase(EXPAND)
    event = lambda_event("expand_same_batch")
    writers_wrote(dynamodb, live_settings.table("events"), event)
    # when the live path gets the batch
    result = process_target_batch(event, Dependencies(live_settings, dynamodb))
    # then on each row the later of the two writes wins, as if both had written one attribute
    assert result.failed_sequence_numbers == []
    rows = table(dynamodb, live_settings.table("events"))
    assert rows["e-new-then-old"]["summary"] == rows["e-new-then-old"]["description"] == S("Then by the v2 app")
    assert rows["e-old-then-new"]["summary"] == rows["e-old-then-new"]["description"] == S("Then by the v3 app")


def test_a_record_whose_renamed_attribute_changed_again_since_leaves_it_to_the_later_record(
        phase, dynamodb, live_settings):
    # given the v3 app set summary (the record) and a v2 app then set description, before the
    # live path got to the first record
    phase(EXPAND)
    event = lambda_event("expand_same_batch")
    first = {"Records": [event["Records"][0]]}  # e-new-then-old: the v3 app's summary
    later = {"Records": [event["Records"][2]]}  # e-new-then-old: then the v2 app's description
    writers_wrote(dynamodb, live_settings.table("events"), later)
    deps = Dependencies(live_settings, dynamodb)
    # when the first record is handled, then it writes nothing: the item moved on
    assert process_target_batch(first, deps).stats["superseded"] == 1
    # and the later record makes the later write win
    assert process_target_batch(later, deps).stats["upgraded"] == 1
    row = table(dynamodb, live_settings.table("events"))["e-new-then-old"]
    assert row["summary"] == row["description"] == S("Then by the v2 app")


# --- the recipe: contract ------------------------------------------------------------------------

def test_contract_dry_run_migrate_verify_late_write_and_restore(phase, target, dynamodb, live_settings, tmp_path):
    events = live_settings.table("events")
    phase(EXPAND)
    run_migration(target, MigrationOptions(backup_dir=tmp_path / "expand", segments=2))
    expanded = table(dynamodb, events)
    # 1. activate the contract phase (version 4), once no reader needs description
    phase(CONTRACT)
    # 2. dry run: each REMOVE shown
    dry = plan_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2, samples=5))
    samples = {s["eventId"]: s["changes"] for s in dry.plan.samples}
    assert dry.plan.would_upgrade == 3 and table(dynamodb, events) == expanded
    assert samples["e1"]["description"] == {"before": "Pub quiz", "after": "(absent)"}
    assert dry.plan.to_dict()["writes_per_field"] == {"REMOVE description": 2, "SET schemaVersion": 3}
    # 3. migrate: description removed from every row, summary kept; the ledger has the values removed
    report = run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    assert report.tally.count("upgraded") == 3
    rows = table(dynamodb, events)
    assert all("description" not in row and row["schemaVersion"] == {"N": "4"} for row in rows.values())
    assert rows["e1"]["summary"] == S("Pub quiz") and rows["e1"]["organizerId"] == S("org-1")
    backup = newest_backup(tmp_path, events)
    [entry] = read_ledger(backup.store, backup.name_for(".ledger.jsonl"))["e1"]
    assert entry.removed == ("description",) and entry.read["description"] == "Pub quiz"
    # 4. verify passes, and fails on a row where description is back
    assert run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2)).ok
    dynamodb.update_item(TableName=events, Key={"eventId": S("e3")}, UpdateExpression="SET description = :d",
                         ExpressionAttributeValues={":d": S("Sprint retro")})
    failed = run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2, show_values=True))
    assert failed.ids_of(FindingKind.INVALID) == {"e3"}
    assert "description is present: renamed to summary and removed" in failed.failures[0].reason
    dynamodb.update_item(TableName=events, Key={"eventId": S("e3")}, UpdateExpression="REMOVE description")
    # 5. the new app edits e1's summary meanwhile
    dynamodb.update_item(TableName=events, Key={"eventId": S("e1")}, UpdateExpression="SET summary = :s",
                         ExpressionAttributeValues={":s": S("Edited after the contract")})
    # 6. restore back to before the contract phase: description back exactly, version 3 again; e1,
    #    changed by the application since, is a conflict and keeps the application's change
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path, backup_dir=tmp_path))
    assert result.ids("restored") == {"e2", "e3"} and result.ids("conflict_skipped") == {"e1"}
    after = table(dynamodb, events)
    assert {k: after[k] for k in ("e2", "e3")} == {k: expanded[k] for k in ("e2", "e3")}
    assert after["e1"]["summary"] == S("Edited after the contract") and "description" not in after["e1"]


def test_contract_live_path_moves_a_late_old_write_to_the_new_name(phase, dynamodb, live_settings):
    # given a contracted row a late v2 app saved whole: description set, summary dropped
    phase(CONTRACT)
    event = lambda_event("contract_late_old_put")
    writers_wrote(dynamodb, live_settings.table("events"), event)
    # when the live path gets the record
    result = process_target_batch(event, Dependencies(live_settings, dynamodb))
    # then the late value is the summary, and description is gone again
    assert result.stats["upgraded"] == 1
    row = table(dynamodb, live_settings.table("events"))["e-late"]
    assert row["summary"] == S("Late write of the v2 app") and "description" not in row
    assert row["schemaVersion"] == {"N": "4"}


# --- the expand phase with writers and the live path running beside the backfill -----------------

def test_expand_beside_old_and_new_writers_and_the_live_path_loses_nothing(phase, dynamodb, live_settings, tmp_path):
    events = live_settings.table("events")
    keys = [f"r{n:02}" for n in range(20)]
    for key in keys:
        dynamodb.put_item(TableName=events, Item=v2_row(key, description=S(f"{key} v0")))
    phase(EXPAND)
    target = Target(settings=live_settings)
    runner = StreamRunner(Target(settings=live_settings))
    last: dict[str, str] = {key: f"{key} v0" for key in keys}  # the last value written under either name
    done = threading.Event()
    errors: list[BaseException] = []

    def writers() -> None:
        # The old app updates description or saves its whole v2 shape (dropping summary); the new
        # app updates summary. Every value is new, so every write is one the stream records.
        client, chooser = Target(settings=live_settings).dynamodb, random.Random(22)
        for n in range(1, 61):
            key, text = chooser.choice(keys), f"v{n}"
            kind = chooser.choice(["old update", "old put", "new update"])
            if kind == "old put":
                client.put_item(TableName=events, Item=v2_row(key, description=S(text)))
            else:
                name = "description" if kind == "old update" else "summary"
                client.update_item(TableName=events, Key={"eventId": S(key)}, UpdateExpression="SET #n = :v",
                                   ExpressionAttributeNames={"#n": name}, ExpressionAttributeValues={":v": S(text)})
            last[key] = text
            time.sleep(0.01)

    def live_path() -> None:
        while not done.is_set():
            runner.poll(RunStats())

    threads = [threading.Thread(target=guarded(work, errors)) for work in (writers, live_path)]
    for thread in threads:
        thread.start()
    # when the expand backfill runs beside them
    report = run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    threads[0].join(timeout=120)
    done.set()
    threads[1].join(timeout=120)
    assert not errors, errors
    stats = runner.drain()
    # then, once the live path caught up, every row holds the last value written under either
    # name under both, at version 3; nothing failed, and verify passes
    assert stats.given_up == [] and report.tally.count("failed") == 0
    rows = table(dynamodb, events)
    assert {key: (row["description"]["S"], row["summary"]["S"], row["schemaVersion"]["N"]) for key, row in rows.items()} \
        == {key: (text, text, "3") for key, text in last.items()}
    assert dynamodb.scan(TableName=live_settings.failures_table)["Items"] == []
    assert run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2)).ok


def guarded(work: Any, errors: list[BaseException]) -> Any:
    def run() -> None:
        try:
            work()
        except BaseException as error:  # surfaced by the test
            errors.append(error)

    return run
