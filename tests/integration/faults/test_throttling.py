"""Throttling injected on a fraction of calls: botocore retries for real, the result is exact."""

from __future__ import annotations

import pytest

from backfill.live.stream_runner import StreamRunner
from backfill.migrate import run_migration
from backfill.table.target import Target
from demo.old_app import OldApp
from tests.integration.faults.injection import Throttler
from tests.integration.faults.scenario import final_check, migration_options, seed

pytestmark = pytest.mark.integration

# Each injected throttle costs botocore a backoff of up to 1 s (2 s, ...), so the number is
# capped to keep the suite quick; the seed decides which calls get them.
BACKFILL_OPERATIONS = frozenset({"Scan", "UpdateItem", "GetItem"})
STREAM_OPERATIONS = frozenset({"Query", "UpdateItem", "GetItem"})


def test_backfill_under_throttling(target, backup_dir, figures):
    # given 100 legacy events and every scan/update/get of the backfill's client throttled at 8 % (at most 5 times)
    data = seed(target, events=100, participants=350, malformed=2, seed=404)
    throttler = Throttler(seed=404, fraction=0.08, operations=BACKFILL_OPERATIONS, limit=5).attach(target.dynamodb)
    # when the backfill runs
    try:
        report = run_migration(target, migration_options(backup_dir, workers=8))
    finally:
        throttler.detach()
    figures.faults.update({f"throttled {op}": n for op, n in throttler.injected.items()})
    figures.records_processed += report.tally.total
    # then the throttles were absorbed by retries (more HTTP sends than API calls), none failed an item
    summary = report.to_dict()
    assert throttler.total >= 4
    assert sum(report.http_requests.values()) >= sum(report.requests.values()) + throttler.total
    assert summary["failed"] == 0 and summary["migrated"] + summary["skipped_already_upgraded"] == len(data.events) - len(data.malformed_ids)
    # and a full verify and an independent count agree
    final_check(target, data, figures, backup_dir=backup_dir)


def test_stream_handlers_under_throttling(target, backup_dir, figures):
    # given 50 legacy events, 150 participants and 60 old-app writes waiting in the streams
    data = seed(target, events=50, participants=150, seed=405)
    valid = [e["eventId"] for e in data.events]
    log = OldApp(target.dynamodb, target.settings, valid, seed=405).run(60)
    runner_target = Target(settings=target.settings)
    runner = StreamRunner(runner_target, batch_size=25)
    # and the handlers' queries/updates/reads and the runner's GetRecords throttled at 6 % (at most 3 + 1 times)
    throttlers = [
        Throttler(seed=405, fraction=0.06, operations=STREAM_OPERATIONS, limit=3).attach(runner_target.dynamodb),
        Throttler(seed=406, fraction=0.06, operations=frozenset({"GetRecords"}), limit=1).attach(runner_target.streams),
    ]
    # when the streams are drained
    try:
        stats = runner.drain()
    finally:
        for throttler in throttlers:
            throttler.detach()
    for throttler in throttlers:
        figures.faults.update({f"throttled {op}": n for op, n in throttler.injected.items()})
    figures.records_processed += stats.total_records()
    # then the retries absorbed them: no record failed for good
    assert sum(t.total for t in throttlers) >= 3 and not stats.given_up
    # and a full verify and an independent count agree
    final_check(target, data, figures, backup_dir=backup_dir, log=log)
