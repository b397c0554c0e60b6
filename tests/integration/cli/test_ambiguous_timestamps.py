"""A timestamp in the wrong unit is refused with the unit it most likely is in, not migrated
as milliseconds into 1970 or the year 55,000; the other rows of the run are migrated."""

from __future__ import annotations

from typing import Any

from tests.integration.migrate_helpers import raw_items


def legacy(event_id: str, created_at: str) -> dict[str, Any]:
    return {"eventId": {"S": event_id}, "name": {"S": "Quiz"}, "status": {"S": "active"},
            "createdAt": {"N": created_at}}


def test_seconds_and_microseconds_are_refused_naming_the_unit(backfill, dynamodb, live_settings):
    # given one row in milliseconds, one in seconds, one in microseconds
    table = live_settings.table("events")
    rows = {"ms": "1700000000000", "seconds": "1700000000", "micros": "1700000000000000"}
    for event_id, created_at in rows.items():
        dynamodb.put_item(TableName=table, Item=legacy(event_id, created_at))
    # when the CLI migrates
    run = backfill("migrate", "--yes", "--json")
    # then it exits 1 (items refused), migrates the millisecond row and leaves the others untouched
    assert run.exit_code == 1, run.output
    report = run.json()
    assert report["migrated"] == 1 and report["refused"] == 2
    reasons = {item["eventId"]: " ".join(item["reasons"]) for item in report["refused_items"]}
    assert "looks like seconds (2023-11-14T22:13:20Z)" in reasons["seconds"]
    assert "looks like microseconds (2023-11-14T22:13:20Z)" in reasons["micros"]
    after = raw_items(dynamodb, table)
    assert after["seconds"] == legacy("seconds", rows["seconds"]) and after["micros"] == legacy("micros", rows["micros"])
    assert after["ms"]["status"] == {"S": "live"}


def test_the_dry_run_shows_the_same_refusals(backfill, dynamodb, live_settings):
    dynamodb.put_item(TableName=live_settings.table("events"), Item=legacy("seconds", "1700000000"))
    run = backfill("migrate", "--dry-run", "--json")
    # a dry run that found rows a real run would refuse still succeeded: exit 0, refusals counted
    assert run.exit_code == 0, run.output
    assert run.json()["refused"] == 1
    [refused] = run.json()["refused_items"]
    assert refused["eventId"] == "seconds" and "it looks like seconds" in refused["reasons"][0]
