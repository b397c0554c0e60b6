"""Restore's memory does not grow with the table: the backup, the ledger, the live items and the
plan stay on disk, and Python holds a scan page and the items in flight. Measured with
tracemalloc's peak (allocations, not time) for two table sizes in one test, over HTTP (the
endpoint's own memory is another process's)."""

import dataclasses
import tracemalloc
from functools import partial

from backfill import legacy_data
from backfill.restore import RestoreOptions, run_restore, runner
from backfill.scan import parallel_scan
from backfill.target import Target
from chalicelib.tables import create_tables
from tests.support.migrated_table import migrate_like_backfill

PAGE = 25  # scan pages of 25 items, so the tables below are many pages long, as a big table is
SMALL, LARGE = 150, 600


def restore_peak(dynamodb, streams, settings, tmp_path, name, events):
    """Given a table of ``events`` migrated like backfill does, the peak bytes traced while restoring it."""
    settings = dataclasses.replace(settings, events_table=f"events-{name}", participants_table=f"participants-{name}")
    create_tables(dynamodb, settings, streams)
    data = legacy_data.generate(events=events, participants=events, seed=4)
    legacy_data.seed_tables(dynamodb, settings.events_table, settings.participants_table, data)
    backup = migrate_like_backfill(dynamodb, settings, tmp_path / name)
    target = Target(settings=settings)
    target.dynamodb = dynamodb
    tracemalloc.start()
    try:
        result = run_restore(target, RestoreOptions(backup_file=backup.data_path, workers=2))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.ok and result.counts()["restored"] > events // 2, result.counts()
    return peak


def test_restoring_a_table_four_times_larger_does_not_take_four_times_the_memory(dynamodb, streams, live_settings,
                                                                                  tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "parallel_scan", partial(parallel_scan, page_size=PAGE))
    restore_peak(dynamodb, streams, live_settings, tmp_path, "warm-up", 20)  # imports and clients' first use, not measured
    # given two migrated tables, one four times the other, when each is restored
    small = restore_peak(dynamodb, streams, live_settings, tmp_path, "small", SMALL)
    large = restore_peak(dynamodb, streams, live_settings, tmp_path, "large", LARGE)
    # then the larger one's peak is not much above the smaller one's (held in memory, it would be ~4x)
    assert large < 1.6 * small, f"peak {small / 1e6:.2f} MB for {SMALL} items, {large / 1e6:.2f} MB for {LARGE}"
