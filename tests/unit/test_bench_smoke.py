"""The benchmark functions run end to end on a tiny data set (no timing asserted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.backup_restore import run_backup
from bench.baseline import run_baseline
from bench.floor import run_floor
from bench.harness import measure
from bench.migrate_run import run_default_migration
from bench.report import migrated, render
from bench.stream_path import StreamMix, run_stream_path
from bench.suite import Results, Sizes
from chalicelib.config import Settings
from chalicelib.items import to_python
from chalicelib.schema import validate_item
from localdev.legacy_data import LegacyDataSet, generate, seed_tables


@pytest.fixture
def data(dynamodb: Any, settings: Settings) -> LegacyDataSet:
    seeded = generate(events=20, participants=60, malformed=2, seed=3)
    seed_tables(dynamodb, settings.table("events"), settings.table("participants"), seeded)
    return seeded


def stored_events(dynamodb: Any, settings: Settings) -> dict[str, dict[str, Any]]:
    items = dynamodb.scan(TableName=settings.table("events"))["Items"]
    return {item["eventId"]["S"]: to_python(item) for item in items}


def test_baseline_queries_and_puts_once_per_event(dynamodb: Any, settings: Settings, data: LegacyDataSet) -> None:
    result = measure("baseline", settings, lambda session, _: run_baseline(session, settings, max_seconds=60))

    assert result.items == 20 and result.notes["complete"] and result.notes["refused"] == 2
    assert result.calls["Query"] == 20 and result.calls["PutItem"] == 18 == migrated(result)
    counts = data.participant_counts()
    for event_id, item in stored_events(dynamodb, settings).items():
        if event_id not in data.malformed_ids:
            assert item["participantCount"] == counts.get(event_id, 0)


def test_migrate_and_ceiling_write_once_per_event(dynamodb: Any, settings: Settings, data: LegacyDataSet) -> None:
    migrate = measure("migrate", settings, lambda session, _: run_default_migration(session, settings))
    assert migrate.items == 20 and migrated(migrate) == 18
    assert migrate.calls["UpdateItem"] == 18 and migrate.non_scan_calls == 18
    phases = set(migrate.notes["phases"])
    assert {"backing up events", "migrating"} <= phases
    assert any(phase.startswith("counting participants") for phase in phases)

    assert migrate.cpu_seconds > 0

    # Everything is now current: the floor examines every event and writes nothing more.
    floor = measure("floor", settings, lambda session, _: run_floor(
        session, settings.endpoint_url, settings.table("events"), settings.table("participants"), threads=4))
    assert floor.items == 20 and floor.notes["results"] == {"skipped": 20}
    assert "UpdateItem" not in floor.calls


def test_floor_writes_what_migrate_writes(dynamodb: Any, settings: Settings, data: LegacyDataSet) -> None:
    # given legacy events, when the boto3-only floor migrates them
    floor = measure("floor", settings, lambda session, _: run_floor(
        session, settings.endpoint_url, settings.table("events"), settings.table("participants"), threads=4))
    # then it writes once per valid event, and the result is what the project's rule would produce
    assert floor.notes["results"] == {"upgraded": 18, "skipped": 2} and floor.calls["UpdateItem"] == 18
    counts = data.participant_counts()
    for event_id, item in stored_events(dynamodb, settings).items():
        if event_id not in data.malformed_ids:
            assert item["schemaVersion"] == 2 and item["participantCount"] == counts.get(event_id, 0)
            assert validate_item(item) == [], event_id


def test_stream_path_keeps_counts_exact(dynamodb: Any, settings: Settings, data: LegacyDataSet) -> None:
    mix = StreamMix(batches=2, records_per_batch=20, hot_events=3)
    result = measure("stream", settings, lambda session, watch: run_stream_path(session, watch, settings, data, mix))

    assert result.items == 40 and result.notes["failed_records"] == 0
    assert result.notes["participant_handler_calls"].get("UpdateItem", 0) <= result.notes["touched_event_batches"]
    participants = dynamodb.scan(TableName=settings.table("participants"))["Items"]
    for event_id, item in stored_events(dynamodb, settings).items():
        if "participantCount" in item:
            assert item["participantCount"] == sum(1 for p in participants if p["eventId"]["S"] == event_id)


def test_backup_counts_items_and_report_renders(
    dynamodb: Any, settings: Settings, data: LegacyDataSet, tmp_path: Path
) -> None:
    backup = measure("backup", settings, lambda session, _: run_backup(session, settings, "participants", tmp_path))
    assert backup.items == 60 and backup.calls["Scan"] >= 4

    text = render(Results(Sizes.quick(), backups=[backup], not_measured=["restore: example"]), "in-process moto")
    assert "| backup | 60 |" in text and "not measured: restore: example" in text


def test_stream_cost_by_event_size_counts_every_join(dynamodb: Any, settings: Settings) -> None:
    import itertools

    from bench.stream_cost import run_stream_cost
    from bench.stream_cost import seed as seed_sized

    # given an event with 30 participants
    rows = seed_sized(dynamodb, settings, (30,))
    # when two batches of 5 joins go through the participants handler
    result = measure("sizes", settings, lambda session, watch: run_stream_cost(
        session, watch, settings, size=30, batches=2, records_per_batch=5, row_sizes=rows["size-30"],
        next_number=itertools.count(1000)))
    # then the count is exact and the rules' cost covers one recount per batch
    event = dynamodb.get_item(TableName=settings.table("events"), Key={"eventId": {"S": "size-30"}})["Item"]
    assert event["participantCount"] == {"N": "40"} and result.items == 10
    assert result.notes["rules_read_units"] == 2 * (1.0 + 1.0) and result.notes["rules_write_units"] == 2


def test_the_strategies_bench_measures_both_strategies(aws: None, settings: Settings) -> None:
    import argparse

    from bench.strategies import STRATEGIES, Bench, create_unstreamed_tables, crossover

    # given the mirrored declaration's tables and an event of 10 participants (in-process moto)
    create_unstreamed_tables(settings)
    args = argparse.Namespace(batches=1, records=3, seed_mirror=False)
    bench = Bench(settings, args)
    bench.seed(10)
    # when each strategy handles one batch of three joins
    recount, mirror = (bench.run(strategy, 10) for strategy in STRATEGIES)
    # then by DynamoDB's rules the recount shares one GetItem, one COUNT page and one write among
    # the three records, and each mirrored record is a 4-unit transaction
    assert recount.per_record["read_units"] == 2 / 3 and recount.per_record["write_units"] == 1 / 3
    assert mirror.per_record == {**mirror.per_record, "read_units": 0.0, "write_units": 4.0, "requests": 1.0}
    assert crossover([recount, mirror], "price", 0.125, 0.625).startswith("above 10 participants")
