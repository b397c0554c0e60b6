"""Throttling injected on a fraction of calls: botocore retries for real, the result is exact."""

from __future__ import annotations

import pytest

from backfill.migrate import run_migration
from tests.integration.faults.injection import Throttler
from tests.integration.faults.scenario import final_check, migration_options, seed

pytestmark = pytest.mark.integration

# Each injected throttle costs botocore a backoff of up to 1 s (2 s, ...), so the number is
# capped to keep the suite quick; the seed decides which calls get them.
BACKFILL_OPERATIONS = frozenset({"Scan", "UpdateItem", "GetItem"})


def test_backfill_under_throttling(target, backup_dir, figures):
    # given 100 legacy events and every scan/update/get of the backfill's client throttled at 8 %
    data = seed(target, events=100, participants=350, malformed=2, seed=404)
    throttler = Throttler(seed=404, fraction=0.08, operations=BACKFILL_OPERATIONS, limit=6).attach(target.dynamodb)
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
    assert summary["failed"] == 0 and summary["migrated"] == len(data.events) - len(data.malformed_ids)
    # and a full verify and an independent count agree
    final_check(target, data, figures, backup_dir=backup_dir)
