"""At-least-once delivery: duplicated, replayed and half-failed batches leave the exact table.

No backfill here: the stream handlers alone upgrade everything, from the seed inserts on
(TRIM_HORIZON), while the old app keeps writing; so every record of both streams goes through
the faulty delivery.
"""

from __future__ import annotations

import pytest

from backfill.live.stream_runner import StreamRunner
from backfill.table.target import Target
from demo.old_app import OldApp
from tests.integration.faults.delivery import HalfwayFailures, Redelivery
from tests.integration.faults.scenario import final_check, seed

pytestmark = pytest.mark.integration


def _old_app(target, data, seed_value):
    valid = [e["eventId"] for e in data.events if e["eventId"] not in set(data.malformed_ids)]
    return OldApp(target.dynamodb, target.settings, valid, seed=seed_value)


def test_every_batch_delivered_twice_and_old_batches_replayed_late(target, backup_dir, figures):
    # given 50 legacy events (2 malformed), 150 participants and 80 old-app writes, all in the streams
    data = seed(target, events=50, participants=150, malformed=2, seed=505)
    log = _old_app(target, data, 505).run(80)
    runner = StreamRunner(Target(settings=target.settings), batch_size=25)
    redelivery = Redelivery(seed=505).install(runner)
    # when every batch is delivered twice, and a third of them once more, late and shuffled
    stats = runner.drain()
    replayed = redelivery.replay(runner.dependencies, fraction=0.35)
    runner.drain()
    figures.faults["batch delivered twice"] += redelivery.duplicates
    figures.faults["batch replayed late"] += replayed
    figures.records_processed += redelivery.records
    # then nothing was given up, and each malformed row is listed once, however often delivered
    assert redelivery.duplicates > 5 and replayed > 0 and not stats.given_up
    assert sorted(_failure_keys(target)) == sorted(f"events#{e}" for e in data.malformed_ids)
    # and a full verify and an independent count agree: nothing lost, every count exact
    final_check(target, data, figures, backup_dir=backup_dir, log=log)


def test_batches_failing_half_way_are_retried_from_the_first_failed_record(target, backup_dir, figures):
    # given 50 legacy events, 150 participants and 80 writes of the old app
    data = seed(target, events=50, participants=150, seed=606)
    log = _old_app(target, data, 606).run(80)
    runner = StreamRunner(Target(settings=target.settings), batch_size=20, max_record_attempts=10)
    halfway = HalfwayFailures(seed=606, fraction=0.4).install(runner)
    # when 40 % of the batches lose DynamoDB access after a few calls
    stats = runner.drain()
    figures.faults["batch failed half way"] += halfway.batches_failed
    figures.records_processed += halfway.records
    # then those batches were retried from their first failed record, and no record given up
    assert halfway.batches_failed >= 3 and halfway.calls_failed > 0
    assert stats.retried >= halfway.batches_failed and not stats.given_up
    # and a full verify and an independent count agree: nothing lost, every count exact
    final_check(target, data, figures, backup_dir=backup_dir, log=log)


def _failure_keys(target: Target) -> list[str]:
    keys = []
    for page in target.dynamodb.get_paginator("scan").paginate(TableName=target.settings.failures_table):
        keys.extend(row["itemKey"]["S"] for row in page["Items"])
    return keys
