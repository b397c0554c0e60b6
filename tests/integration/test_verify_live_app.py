"""Verify beside a live application: an application process keeps editing its own attributes
while the migration runs and after it; verify passes (the edits are notes naming each attribute
and its type change, no values), `--strict` still fails on them, and a write of an attribute the
migration does not own, made through the migration's own code path, fails verify by its ledger."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import chalicelib.upgrader
from backfill.migrate import MigrationOptions, run_migration
from backfill.table.target import Target
from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import REPO, run_backfill


class Application:
    """tests/support/app_writer.py in its own process, editing events until told to stop."""

    def __init__(self, live_settings, env, stop_file: Path) -> None:
        self.stop_file = stop_file
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.app_writer", live_settings.endpoint_url, live_settings.region,
             live_settings.table("events"), str(stop_file)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def edits(self) -> int:
        progress = Path(f"{self.stop_file}.count")
        return int(progress.read_text() or 0) if progress.exists() else 0

    def wait_for_edits(self, count: int, timeout: float = 120) -> None:
        """Until the application has made ``count`` edits (it edits the events round-robin)."""
        deadline = time.monotonic() + timeout
        while self.edits() < count:
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, f"the application made {self.edits()} of {count} edits"
            time.sleep(0.05)

    def stop(self) -> int:
        self.stop_file.touch()
        out, errors = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, errors
        return int(out)


def test_verify_passes_while_the_application_edits_and_strict_still_fails(dynamodb, live_settings, tmp_path, env):
    # given legacy events and an application editing name, description, topic and visibility all along
    seed(dynamodb, live_settings, events=40, participants=40, malformed=0)
    app = Application(live_settings, env, tmp_path / "stop")
    runs = str(tmp_path / "runs")
    try:
        # when the migration runs beside it, and the application goes on after it for a whole round
        # of edits, so that every event was edited after its backup (on a loaded machine a fixed
        # pause once left three events unedited)
        migrated = run_backfill("migrate", "--yes", "--rate-limit", "40", "--backup-dir", runs, env=env)
        app.wait_for_edits(app.edits() + 41)
    finally:
        edits = app.stop()
    assert migrated.exit_code == 0, migrated.output
    assert edits > 40  # every event edited at least once
    # then verify passes: the application's edits are notes, each naming the attributes and their types
    verified = run_backfill("verify", "--backup-dir", runs, "--json", env=env)
    assert verified.exit_code == 0, verified.output
    notes = [n for n in verified.json()["notes"] if n["kind"] == "changed_by_application"]
    assert len(notes) == 40
    named = re.compile(r"description \((changed|added), S\).*name \(changed, S\).*topic \((changed|added), S\)")
    assert all(named.search(n["reason"]) for n in notes), [n for n in notes if not named.search(n["reason"])][:3]
    assert "renamed" not in verified.output and "edited" not in verified.output  # no user data unless asked
    # and with --show-values the values are there
    shown = run_backfill("verify", "--backup-dir", runs, "--show-values", "--json", env=env)
    assert shown.exit_code == 0 and "renamed" in shown.stdout
    # and --strict (for a table nobody else writes) fails on every edited event, naming the attributes
    strict = run_backfill("verify", "--backup-dir", runs, "--strict", "--json", env=env)
    assert strict.exit_code == 1
    failures = strict.json()["failures"]
    assert {f["kind"] for f in failures} == {"unowned_changed"} and len(failures) == 40
    assert all(named.search(f["reason"]) for f in failures), failures[:3]


def test_an_unowned_write_by_the_migrations_own_code_path_fails_verify(dynamodb, live_settings, tmp_path, env,
                                                                        monkeypatch):
    # given legacy events and an application editing them
    seed(dynamodb, live_settings, events=20, participants=20, malformed=0)
    victim = sorted(raw_items(dynamodb, live_settings.table("events")))[3]
    # and a migration whose planner (wrongly) also sets `name`, an attribute it does not own, on one event
    planned = chalicelib.upgrader.plan_upgrade

    def wrong_plan(item, **kwargs):
        plan = planned(item, **kwargs)
        if plan.item_name == victim and plan.changes:
            return replace(plan, changes={**plan.changes, "name": "hijacked"})
        return plan

    monkeypatch.setattr(chalicelib.upgrader, "plan_upgrade", wrong_plan)
    app = Application(live_settings, env, tmp_path / "stop")
    runs = tmp_path / "runs"
    try:
        # when the migration runs through the tool's own code path (the library the CLI calls)
        report = run_migration(Target(settings=live_settings), MigrationOptions(backup_dir=runs, workers=2))
    finally:
        app.stop()
    assert report.exit_code == 0
    # then verify fails on exactly that event, naming the attribute and its type change, from the ledger
    verified = run_backfill("verify", "--backup-dir", str(runs), "--json", env=env)
    assert verified.exit_code == 1, verified.output
    failures = verified.json()["failures"]  # one per write attempt the ledger recorded (a retry after a lost race)
    assert {(f["item"], f["kind"]) for f in failures} == {(victim, "unowned_written_by_migration")}, failures
    assert all(f["reason"].endswith("name (changed, S)") and "hijacked" not in f["reason"] for f in failures)
