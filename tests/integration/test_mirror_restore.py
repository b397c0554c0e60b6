"""Restore with a membership mirror, on each engine: migrate, seed the mirror, restore. The
events go back to their backed-up shape with no marker left behind, the mirror still matches the
participants table, and the live path recounts the unmarked events until the next seed."""

from __future__ import annotations

import pytest

from backfill.migrate.runner import MigrationOptions, run_migration
from backfill.mirror.seed import seed_mirror
from backfill.mirror.verify import UNMARKED, verify_mirror
from backfill.restore import RestoreOptions, run_restore
from backfill.run.backup import newest_backup
from backfill.table.target import Target
from chalicelib.streams import process_source_batch
from chalicelib.streams.dependencies import Dependencies
from localdev import legacy_data
from tests.integration.test_mirror_live_path import count_of, join, seed_writers
from tests.unit.streams.conftest import batch

pytestmark = pytest.mark.usefixtures("mirrored")


def test_restore_unmarks_the_events_and_leaves_the_mirror_matching(dynamodb, live_settings, endpoint, tmp_path):
    # given legacy events, migrated, then handed over to the mirror
    data = legacy_data.generate(events=12, participants=40, malformed=0, seed=27)
    legacy_data.seed_tables(dynamodb, live_settings.table("events"), live_settings.table("participants"), data)
    target = Target(settings=live_settings)
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=1))
    assert seed_mirror(target, segments=1, threads=seed_writers(endpoint.name)).marked == 12
    # when the migration is restored
    backup = newest_backup(tmp_path, live_settings.table("events"))
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path, backup_dir=tmp_path))
    assert not result.ids("failed") and not result.ids("conflict_skipped")
    # then no event keeps a marker or a count, and the mirror still matches the participants table
    for event in data.events:
        item = dynamodb.get_item(TableName="events", Key={"eventId": {"S": event["eventId"]}}, ConsistentRead=True)["Item"]
        assert not {"participantCountMirrored", "participantCount", "countVersion"} & set(item), item
    checked = verify_mirror(target, segments=1)
    assert checked.ok and checked.totals[UNMARKED] == 12
    # and a join now recounts its event from the participants table (unmarked), exactly
    event_id = data.events[0]["eventId"]
    members = sum(1 for p in data.participants if p["eventId"] == event_id)
    dynamodb.put_item(TableName="participants", Item={"eventId": {"S": event_id}, "participantId": {"S": "new"}})
    process_source_batch(batch(join(event_id, "new", 1)), Dependencies(live_settings, dynamodb))
    assert count_of(dynamodb, event_id) == members + 1
