"""Every value DynamoDB accepts survives `backfill migrate`, `verify` and `restore` byte for byte.

Items are written with the low-level client in typed JSON (not with the project's serializer)
and compared as the endpoint returns them.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from backfill.migrate import run_migration
from backfill.restore import RestoreOptions, run_restore
from chalicelib.schema import CURRENT
from tests.integration.migrate_helpers import options, raw_items, second_table_set, target_for
from tests.strategies import EXTREME_NUMBERS, RELAXED, canonical_item, deep_value, legacy_events
from tests.support.cli import run_backfill

_tables = itertools.count()


def legacy(event_id: str, **extra: dict[str, Any]) -> dict[str, Any]:
    return {"eventId": {"S": event_id}, "name": {"S": f"Event {event_id}"}, "status": {"S": "active"},
            "createdAt": {"N": "1700000000000"}, **extra}


EXTREME = {
    **{f"n{index}": {"N": text} for index, text in enumerate(EXTREME_NUMBERS)},
    "ns": {"NS": list(EXTREME_NUMBERS[:6])},
    "nested": {"M": {"l": {"L": [{"N": "1E-130"}, {"NS": ["9.9999999999999999999999999999999999999E+125"]}]}}},
    "deep": deep_value(31, {"N": "-1E-130"}),
    "empty": {"S": ""},
    "nothing": {"B": b""},
}


def cli(command: str, endpoint_url: str, backup_dir: Any, *args: str) -> Any:
    return run_backfill(command, *args, "--endpoint-url", endpoint_url, "--backup-dir", str(backup_dir))


def unowned(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name not in CURRENT.owned}


def test_numbers_at_dynamodb_limits_survive_migrate_verify_restore(dynamodb, live_settings, tmp_path):
    # given legacy events, one holding numbers at DynamoDB's limits in attributes the migration
    # does not own, one holding one in an owned field the migration overwrites (participantCount)
    table = live_settings.table("events")
    for item in (legacy("plain"), legacy("extreme", **EXTREME),
                 legacy("owned-odd", participantCount={"N": "1E-130"}, status={"S": "waiting"})):
        dynamodb.put_item(TableName=table, Item=item)
    before = raw_items(dynamodb, table)
    # when the CLI migrates them
    migrated = cli("migrate", live_settings.endpoint_url, tmp_path, "--yes", "--json")
    # then every event is migrated, nothing fails, and no attribute it does not own changed
    assert migrated.exit_code == 0, migrated.stderr
    report = migrated.json()
    assert report["migrated"] == 3 and report["failed"] == 0, report
    after = raw_items(dynamodb, table)
    assert {k: unowned(v) for k, v in after.items()} == {k: unowned(v) for k, v in before.items()}
    assert after["owned-odd"]["participantCount"] == {"N": "0"}
    # and verify passes against the backup
    verified = cli("verify", live_settings.endpoint_url, tmp_path, "--json")
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    # and restore gives back every item exactly as the endpoint returned it before
    restored = cli("restore", live_settings.endpoint_url, tmp_path, report["backup_file"], "--yes", "--json")
    assert restored.exit_code == 0, restored.stdout + restored.stderr
    after_restore = raw_items(dynamodb, table)
    assert {k: unowned(v) for k, v in after_restore.items()} == {k: unowned(v) for k, v in before.items()}
    assert {k: canonical_item(v, numbers=True) for k, v in after_restore.items()} == {
        k: canonical_item(v, numbers=True) for k, v in before.items()}


@settings(max_examples=15, **RELAXED)
@given(st.lists(legacy_events(), min_size=1, max_size=6, unique_by=lambda item: item["eventId"]["S"]))
def test_migrate_then_restore_returns_every_generated_item_byte_for_byte(dynamodb, live_settings, tmp_path, events):
    # given legacy events holding values from DynamoDB's whole value space, in fresh tables
    run = next(_tables)
    settings_ = second_table_set(dynamodb, live_settings, f"p{run}")
    for item in events:
        dynamodb.put_item(TableName=settings_.table("events"), Item=item)
    raw_before = raw_items(dynamodb, settings_.table("events"))
    before = {k: canonical_item(v) for k, v in raw_before.items()}
    # when migrated
    report = run_migration(target_for(settings_), options(tmp_path / f"run{run}"))
    # then every event is migrated and no attribute the migration does not own changed
    assert report.migrated == len(events) and report.exit_code == 0, report.to_dict()
    after = {k: canonical_item(v) for k, v in raw_items(dynamodb, settings_.table("events")).items()}
    assert {k: unowned(v) for k, v in after.items()} == {k: unowned(v) for k, v in before.items()}
    # when restored, then every item is back as the endpoint returned it before: byte for byte,
    # except that owned numbers it put back compare by exact value (see ``canonical``)
    result = run_restore(target_for(settings_), RestoreOptions(backup_file=report.backup_file,
                                                               backup_dir=tmp_path / f"run{run}"))
    assert result.counts() == {"restored": len(events)}, result.to_json()
    restored = raw_items(dynamodb, settings_.table("events"))
    assert {k: unowned(v) for k, v in restored.items()} == {k: unowned(v) for k, v in raw_before.items()}
    assert {k: canonical_item(v, numbers=True) for k, v in restored.items()} == {
        k: canonical_item(v, numbers=True) for k, v in raw_before.items()}


def test_an_extreme_number_the_rule_cannot_use_stops_one_item_not_the_run(dynamodb, live_settings, tmp_path):
    # given legacy events, two with createdAt values DynamoDB accepts but no timestamp can be
    table = live_settings.table("events")
    for item in (legacy("plain"), legacy("tiny", createdAt={"N": "1E-130"}),
                 legacy("negative", createdAt={"N": "-9.9999999999999999999999999999999999999E+125"})):
        dynamodb.put_item(TableName=table, Item=item)
    before = raw_items(dynamodb, table)
    # when the CLI migrates them
    run = cli("migrate", live_settings.endpoint_url, tmp_path, "--yes", "--json")
    # then those two are refused by key with a reason, the other is migrated, exit code 1
    report = run.json()
    assert run.exit_code == 1 and report["migrated"] == 1, report
    assert {p["eventId"]: p["reasons"] for p in report["refused_items"]}.keys() == {"tiny", "negative"}
    assert all("createdAt" in " ".join(p["reasons"]) for p in report["refused_items"])
    after = raw_items(dynamodb, table)
    assert after["tiny"] == before["tiny"] and after["negative"] == before["negative"]
