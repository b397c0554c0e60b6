"""Restore's memory does not grow with the table: the backup, the ledger, the live items and the
plan stay on disk, and Python holds a scan page and the items in flight. Measured as the peak of
memory allocated (tracemalloc; sizes, not time) while restoring two tables, one four times the
other, each in a child process of its own (tests/support/restore_peak.py)."""

import json
import os
import subprocess
import sys

from chalicelib.tables import create_tables
from localdev import legacy_data
from tests.support.cli import REPO
from tests.support.migrated_table import migrate_like_backfill

PAGE = 25  # scan pages of 25 items, so the tables below are many pages long, as a big table is
SMALL, LARGE = 120, 480


def restore_peak(dynamodb, streams, settings, tmp_path, name, events):
    """Given a table of ``events`` migrated like backfill does, the peak bytes allocated restoring it."""
    settings = settings.with_tables({"events": f"events-{name}", "participants": f"participants-{name}"})
    create_tables(dynamodb, settings, streams)
    data = legacy_data.generate(events=events, participants=events, seed=4)
    legacy_data.seed_tables(dynamodb, settings.table("events"), settings.table("participants"), data)
    backup = migrate_like_backfill(dynamodb, settings, tmp_path / name)
    child = subprocess.run(
        [sys.executable, "-m", "tests.support.restore_peak", settings.endpoint_url, settings.table("events"),
         str(backup.data_path), str(PAGE)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=True,
    )
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    assert measured["ok"] and measured["counts"]["restored"] > events // 2, measured
    return measured["peak"]


def test_restoring_a_table_four_times_larger_does_not_take_four_times_the_memory(dynamodb, streams, live_settings,
                                                                                  tmp_path):
    # given two migrated tables, one four times the other, when each is restored
    small = restore_peak(dynamodb, streams, live_settings, tmp_path, "small", SMALL)
    large = restore_peak(dynamodb, streams, live_settings, tmp_path, "large", LARGE)
    # then the larger one's peak is not much above the smaller one's (held in memory, it would be ~4x)
    assert large < 1.5 * small, f"peak {small / 1e6:.2f} MB for {SMALL} items, {large / 1e6:.2f} MB for {LARGE}"
