"""Backfill and restore while the old app keeps writing (threads), with the live path running."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backfill.live.stream_runner import StreamRunner
from backfill.migrate import MigrationHooks, run_migration
from backfill.restore import RestoreOptions, run_restore
from backfill.run.backup import iter_backup_items, load_backup
from backfill.table.target import Target
from backfill.verify import VerifyOptions, run_verify
from chalicelib.items import to_python
from chalicelib.schema import CURRENT
from demo.checks import snapshot
from demo.old_app import OldApp
from tests.integration.faults.scenario import final_check, migration_options, seed

pytestmark = pytest.mark.integration


def _old_app(target: Target, data, seed_value: int) -> OldApp:
    valid = [e["eventId"] for e in data.events if e["eventId"] not in set(data.malformed_ids)]
    return OldApp(Target(settings=target.settings).dynamodb, target.settings, valid, seed=seed_value)


def _in_background(work) -> threading.Thread:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # surfaced by join_checked
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def _join_checked(thread: threading.Thread) -> None:
    thread.join(timeout=120)
    assert not thread.is_alive(), "background writer did not stop"
    assert not thread.errors, thread.errors  # type: ignore[attr-defined]


def _paced_by(app: OldApp) -> MigrationHooks:
    """Hooks that hold the backfill's writes back until the old app has written alongside them.

    How many writes the app gets in before the backfill ends depends on the engine's speed
    (DynamoDB Local is quicker than moto); the race must not: 10 app writes after the backup,
    then one per 4 items migrated (at most 40 in all).
    """

    def wait_for(operations: int) -> None:
        deadline = time.monotonic() + 30
        while app.log.total < min(operations, 40) and time.monotonic() < deadline:
            time.sleep(0.005)

    @contextlib.contextmanager
    def progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        migrated = [0]

        def advance(n: int) -> None:
            if description == "migrating":
                migrated[0] += n
                wait_for(10 + migrated[0] // 4)

        yield advance

    return MigrationHooks(confirm=lambda plan, backup: wait_for(10), progress=progress)


def test_backfill_while_the_old_app_writes_and_the_stream_handlers_run(target, backup_dir, figures):
    # given 100 legacy events (2 malformed), and the live path (stream runner) plus the old app running
    data = seed(target, events=100, participants=300, malformed=2, seed=1001)
    app = _old_app(target, data, 1001)
    runner = StreamRunner(Target(settings=target.settings), batch_size=25)
    stop_app, stop_runner = threading.Event(), threading.Event()
    writer = _in_background(lambda: app.run_until(stop_app, max_operations=150, pause_s=0.01))
    live_path = _in_background(lambda: runner.follow(interval=0.1, should_stop=stop_runner.is_set))
    # when the backfill runs meanwhile (creates, status changes, joins and leaves race with it)
    report = run_migration(Target(settings=target.settings), migration_options(backup_dir), _paced_by(app))
    stop_app.set()
    _join_checked(writer)
    stop_runner.set()
    _join_checked(live_path)
    stats = runner.drain()
    figures.records_processed += report.tally.total + app.log.total + stats.total_records()
    figures.faults["concurrent live writes"] += app.log.total
    # then the backfill reported nothing failed, the streams gave up on nothing
    summary = report.to_dict()
    assert app.log.total > 20 and summary["failed"] == 0 and not stats.given_up
    assert summary["refused"] == len(data.malformed_ids)
    # and a full verify and an independent count agree: nothing lost, every count exact
    final_check(target, data, figures, backup_dir=backup_dir, log=app.log)


def test_verify_accepts_a_status_the_app_moved_during_the_backfill(target, backup_dir):
    # given a waiting event, and the old app starting it after the backup, before the writes
    data = seed(target, events=5, participants=10, seed=1003)
    waiting = next(e["eventId"] for e in data.events if e["status"] == "waiting")
    app = _old_app(target, data, 1003)
    hooks = MigrationHooks(confirm=lambda plan, backup: app.change_status(waiting))
    # when the backfill runs, then verify runs
    run_migration(target, migration_options(backup_dir), hooks)
    result = run_verify(target, VerifyOptions(backup_dir=backup_dir))
    # then the event is live (the migration upgraded the fresh row) and verify finds nothing wrong
    assert snapshot(target.dynamodb, target.settings.table("events"))[waiting]["status"] == "live"
    assert result.ok, [f.to_json() for f in result.failures]


def test_restore_while_the_old_app_writes_keeps_newer_data(target, backup_dir, figures):
    # given a migrated table, the old app's first writes upgraded by the live path
    data = seed(target, events=80, participants=250, seed=1002)
    report = run_migration(target, migration_options(backup_dir))
    runner = StreamRunner(Target(settings=target.settings), batch_size=25)
    app = _old_app(target, data, 1002)
    app.run(40)
    runner.drain()
    # when the live path is switched off for the rollback, and restore runs while the app writes
    stop_app = threading.Event()
    writer = _in_background(lambda: app.run_until(stop_app, max_operations=120, pause_s=0.005))
    result = run_restore(Target(settings=target.settings),
                         RestoreOptions(backup_file=Path(report.backup_file), backup_dir=backup_dir))
    stop_app.set()
    _join_checked(writer)
    figures.records_processed += report.tally.total + len(result.outcomes) + app.log.total
    figures.faults["writes during restore"] += app.log.total
    log = app.log
    # then conflicts are reported, each one an event the app changed; nothing failed
    conflicts = result.ids("conflict_skipped")
    assert conflicts and conflicts <= log.events_touched and not result.ids("failed")
    assert result.ids("new_kept") <= log.created
    # and newer data was kept: every status the app wrote is still there (or its upgrade)
    after = snapshot(target.dynamodb, target.settings.table("events"))
    for event_id, status in log.last_status.items():
        assert after[event_id]["status"] in {status, CURRENT.canonical_status(status)}, event_id
    # and every event the app never touched is back to the backup, attribute for attribute
    backup = {i["eventId"]: i for i in (to_python(t) for _, t in iter_backup_items(load_backup(report.backup_file)))}
    untouched = set(backup) - log.events_touched
    differ = sorted(e for e in untouched if after.get(e) != backup[e])
    figures.items_checked += len(untouched)
    figures.items_lost += sum(1 for e in set(backup) | log.created if e not in after)
    assert untouched and not differ, differ[:5]
    # and rolling forward again (migrate + live path) ends exact: full verify + independent check
    again = run_migration(target, migration_options(backup_dir))
    runner.drain()
    assert again.to_dict()["failed"] == 0
    final_check(target, data, figures, backup_dir=backup_dir, log=log)
