"""Writes whose outcome was unclear are settled by reading back, on both engines.

Given an endpoint (behind a proxy) that applies writes and then answers HTTP 500 with an HTML
page, migrate and restore report exactly what happened to the table: every write that landed is
counted as written (settled "applied"), none as failed, and the report says how many needed
settling. The oracle is a raw scan of the table straight from the engine, not through the proxy.
"""

from __future__ import annotations

from pathlib import Path

from backfill.migrate import run_migration
from backfill.restore import RestoreOptions, run_restore
from backfill.run.item_failures import LOGGED
from backfill.run.ledger import LEDGER_SUFFIX
from backfill.table.target import Target
from tests.integration.cli.conftest import target_env
from tests.integration.migrate_helpers import options as migration_options
from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import cli_env, run_backfill
from tests.support.unclear_proxy import UnclearProxy

EVENTS = 40


def test_migrate_counts_writes_that_landed_before_a_500_as_migrated(dynamodb, live_settings, tmp_path: Path):
    # given legacy events, and every other write answered 500 after it was applied
    seed(dynamodb, live_settings, events=EVENTS, participants=80, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    with UnclearProxy(live_settings.endpoint_url, every=2).running() as proxy:
        target = Target(settings=live_settings.with_overrides(endpoint_url=proxy.url))
        # when migrate runs through it
        report = run_migration(target, migration_options(tmp_path / "runs"))
    summary = report.to_dict()
    # then the table (read straight from the engine) has every event upgraded
    after = raw_items(dynamodb, live_settings.table("events"))
    assert set(after) == set(before)
    assert all("schemaVersion" in item for item in after.values())
    # and the report says the same: all migrated, none failed, the 500s settled as applied
    assert proxy.applied_then_500 == EVENTS // 2
    assert summary["migrated"] == EVENTS and summary["failed"] == 0, summary
    assert summary["unclear_writes_settled"] == {"applied": EVENTS // 2}
    # and the ledger records each settlement beside the write it announced
    ledger = next((tmp_path / "runs").glob(f"*{LEDGER_SUFFIX}")).read_text()
    assert ledger.count('"settled": "applied"') == EVENTS // 2


def test_restore_through_500s_after_writes_restores_everything(dynamodb, live_settings, tmp_path: Path):
    # given a migrated table and its backup
    seed(dynamodb, live_settings, events=EVENTS, participants=80, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    report = run_migration(Target(settings=live_settings), migration_options(tmp_path / "runs"))
    assert report.to_dict()["migrated"] == EVENTS
    # when it is restored through an endpoint that answers 500 after every write it applies
    with UnclearProxy(live_settings.endpoint_url, every=1).running() as proxy:
        target = Target(settings=live_settings.with_overrides(endpoint_url=proxy.url))
        result = run_restore(target, RestoreOptions(backup_file=report.backup_file, backup_dir=tmp_path / "runs"))
    # then the table is exactly as backed up, and restore reports no failure or conflict
    assert raw_items(dynamodb, live_settings.table("events")) == before
    assert proxy.applied_then_500 >= EVENTS
    assert result.ok, result.counts()
    assert set(result.counts()) <= {"restored", "unchanged"}, result.counts()


def test_many_failed_writes_are_summarised_in_one_line_each_without_html(dynamodb, live_settings, tmp_path: Path):
    # given an endpoint whose writes are all refused by a proxy's HTML 403 page
    seed(dynamodb, live_settings, events=EVENTS, participants=40, malformed=0)
    with UnclearProxy(live_settings.endpoint_url, refuse_writes=403).running() as proxy:
        env = cli_env({**target_env(live_settings), "AWS_ENDPOINT_URL": proxy.url})
        # when migrate runs
        result = run_backfill("migrate", "--yes", "--backup-dir", str(tmp_path / "runs"), cwd=tmp_path, env=env)
    # then every event is reported failed (exit 1), each reason one line with no HTML in it
    assert result.exit_code == 1, result.output
    assert "<html" not in result.output.lower() and "HTTP 403 with an HTML error page" in result.output
    # and only the first few failures are logged one by one, then counts by reason
    logged = [line for line in result.stderr.splitlines() if " failed: " in line]
    assert len(logged) == LOGGED, result.stderr
    assert f"{EVENTS} item failures in all, by reason" in result.stderr
