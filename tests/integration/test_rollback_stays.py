"""After a rollback the live path of the restored declaration would upgrade every restored item
again (the restore's own writes are on the stream): the local runner refuses until the table is
migrated again, and the table keeps its restored items."""

from __future__ import annotations

from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import run_backfill


def test_the_local_runner_refuses_after_a_rollback_until_the_table_is_migrated_again(dynamodb, live_settings, env,
                                                                                     tmp_path):
    # given legacy events, migrated, then rolled back from the migration's backup
    seed(dynamodb, live_settings, events=12, participants=20, malformed=0)
    table = live_settings.table("events")
    legacy = raw_items(dynamodb, table)
    store = ("--backup-dir", str(tmp_path / "runs"))
    positions = ("--positions", str(tmp_path / "runs" / "positions.json"))
    assert run_backfill("migrate", "--yes", *store, env=env).exit_code == 0
    [backup] = (tmp_path / "runs").glob("*.jsonl.gz")
    restored = run_backfill("restore", str(backup), "--yes", *store, env=env)
    assert restored.exit_code == 0, restored.output
    assert raw_items(dynamodb, table) == legacy
    # when the local live path is started over the streams (which hold the restore's writes)
    held = run_backfill("streams", *store, *positions, env=env)
    # then it refuses (exit 3) in one line naming the run and the table, and the rollback stands
    assert held.exit_code == 3, held.output
    [error] = held.errors()
    assert backup.name.removesuffix(".jsonl.gz") in error and f"{table!r}" in error and "rolled back" in error
    assert raw_items(dynamodb, table) == legacy
    # when the table is migrated again, the live path runs again
    assert run_backfill("migrate", "--yes", *store, env=env).exit_code == 0
    drained = run_backfill("streams", *store, *positions, env=env)
    assert drained.exit_code == 0, drained.output
