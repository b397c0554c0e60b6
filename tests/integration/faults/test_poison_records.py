"""Poison records mixed into batches: reported (failures table / refused), never blocking."""

from __future__ import annotations

import random

import pytest

from backfill.live.stream_runner import StreamRunner
from backfill.migrate import run_migration
from backfill.table.target import Target
from chalicelib.items import to_typed
from demo.old_app import OldApp
from localdev.legacy_data import MALFORMED, legacy_event
from tests.integration.faults.scenario import final_check, migration_options, seed

pytestmark = pytest.mark.integration


def write_poison(target: Target, rng: random.Random, number: int, *, binary: bool) -> str:
    """An old-shape event the upgrade rule must refuse (the kind of damage cycles with number)."""
    event = legacy_event(rng, 90_000 + number)
    event.pop("logo", None)
    if binary:
        event["logo"] = b"\x89PNG\x00"  # a binary attribute the failure row must keep
    poison = MALFORMED[number % len(MALFORMED)]({**event, "eventId": f"poison-{number:03d}"})
    target.dynamodb.put_item(TableName=target.settings.table("events"), Item=to_typed(poison))
    return poison["eventId"]


def failure_keys(target: Target) -> list[str]:
    keys = []
    for page in target.dynamodb.get_paginator("scan").paginate(TableName=target.settings.failures_table):
        keys.extend(row["itemKey"]["S"] for row in page["Items"])
    return keys


def test_poison_rows_in_the_backfill_are_refused_and_the_rest_migrated(target, backup_dir, figures):
    # given 100 legacy events of which 12 are malformed in six different ways
    data = seed(target, events=100, participants=300, malformed=12, seed=707)
    # when the backfill runs
    report = run_migration(target, migration_options(backup_dir))
    figures.faults["poison rows (backfill)"] += len(data.malformed_ids)
    figures.records_processed += report.tally.total
    # then each is refused with its reason, and every other event is migrated
    summary = report.to_dict()
    assert sorted(r["eventId"] for r in summary["refused_items"]) == sorted(data.malformed_ids)
    assert all(r["reasons"] for r in summary["refused_items"])
    assert summary["migrated"] + summary["skipped_already_upgraded"] == len(data.events) - len(data.malformed_ids) and summary["failed"] == 0
    final_check(target, data, figures, backup_dir=backup_dir)


def _stream_poison_scenario(
    target, backup_dir, figures, *, binary: bool, scenario_seed: int, events: int = 60, poison_count: int = 6
) -> None:
    # given a migrated table with the live path on from the start
    data = seed(target, events=events, participants=3 * events, seed=scenario_seed)
    run_migration(target, migration_options(backup_dir))
    runner = StreamRunner(Target(settings=target.settings), batch_size=10)
    runner.drain()
    # and the old app writing poison rows among its normal writes (12 between two poison rows)
    rng = random.Random(scenario_seed)
    app = OldApp(target.dynamodb, target.settings, [e["eventId"] for e in data.events], seed=scenario_seed)
    poison = []
    for number in range(poison_count):
        app.run(12)
        poison.append(write_poison(target, rng, number, binary=binary))
    # when the streams are drained (poison records share batches with good ones)
    stats = runner.drain()
    figures.faults["poison records (streams)"] += len(poison)
    figures.records_processed += stats.total_records()
    # then every poison record is listed once in the failures table, none blocked its shard
    assert sorted(failure_keys(target)) == sorted(f"events#{p}" for p in poison)
    assert not stats.given_up and runner.drain().total_records() == 0
    # and everything else was upgraded, counts exact, nothing lost
    final_check(target, data, figures, backup_dir=backup_dir, log=app.log, extra_refused=set(poison))


def test_poison_records_in_stream_batches_are_listed_and_do_not_block(target, backup_dir, figures):
    _stream_poison_scenario(target, backup_dir, figures, binary=False, scenario_seed=808)


def test_poison_records_with_binary_attributes_are_listed(target, backup_dir, figures):
    # (a failure row keeps the typed image: binary attributes must survive it)
    _stream_poison_scenario(target, backup_dir, figures, binary=True, scenario_seed=909, events=30, poison_count=3)
