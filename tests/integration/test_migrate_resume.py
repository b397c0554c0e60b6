"""A migration that dies midway resumes to exactly the table an uninterrupted run leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from backfill.cli.main import cli
from backfill.migrate import run_migration
from backfill.run.checkpoint import load_checkpoint
from backfill.run.store import LocalStore
from tests.integration.faults.injection import Killed, Killer
from tests.integration.migrate_helpers import options, raw_items, second_table_set, seed, target_for

REPO = Path(__file__).resolve().parents[2]


def count_successful(client, operation: str) -> list[str]:
    """The event ids of every ``operation`` that succeeded on ``client`` (filled as they land)."""
    landed: list[str] = []

    def on_call(params, context, **_):
        context["landed_key"] = params["Key"]["eventId"]["S"]

    def on_response(http_response, context, **_):
        if http_response.status_code == 200:
            landed.append(context["landed_key"])

    client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", on_call)
    client.meta.events.register(f"after-call.dynamodb.{operation}", on_response)
    return landed


def hold_first_call_until(client, operation: str, released: Callable[[], bool]) -> None:
    """Hold the first ``operation`` call on ``client`` until ``released()`` (a writer falling
    behind the others, as a slow thread or connection does)."""
    first = threading.Lock()

    def on_call(**_):
        if first.acquire(blocking=False):
            deadline = time.monotonic() + 30  # a guard against a hung test, not an assertion
            while not released() and time.monotonic() < deadline:
                time.sleep(0.01)

    client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", on_call)


@pytest.fixture
def reference(dynamodb, live_settings, tmp_path):
    """The same legacy data in a second pair of tables, migrated without interruption."""
    other = second_table_set(dynamodb, live_settings, "reference")
    seed(dynamodb, other, events=80, participants=200, malformed=4)
    run_migration(target_for(other), options(tmp_path / "reference"))
    return raw_items(dynamodb, other.table("events"))


def test_run_killed_after_some_writes_resumes_to_the_same_table(dynamodb, live_settings, tmp_path, reference):
    # given legacy data and a run that dies before its 31st write
    data = seed(dynamodb, live_settings, events=80, participants=200, malformed=4)
    dying = target_for(live_settings)
    killer = Killer("UpdateItem", after=30).attach(dying.dynamodb)
    landed = count_successful(dying.dynamodb, "UpdateItem")
    hold_first_call_until(dying.dynamodb, "UpdateItem", lambda: killer.fired)  # one writer falls behind
    with pytest.raises(Killed):
        run_migration(dying, options(tmp_path))
    assert killer.fired and landed
    [manifest] = tmp_path.glob("*.manifest.json")
    run_id = manifest.name.removesuffix(".manifest.json")
    checkpoint = load_checkpoint(LocalStore(tmp_path), f"{run_id}.checkpoint.json", run_id)
    # every item whose write landed is in the checkpoint, whichever writer was behind
    assert not checkpoint.completed and len(landed) <= checkpoint.finished_items < 80
    # when the run is resumed by its id
    report = run_migration(target_for(live_settings), options(tmp_path, resume=run_id))
    # then it skipped what was finished, completed, and left the same table as an uninterrupted run
    assert report.completed and report.run_id == run_id
    assert report.resumed_after == checkpoint.finished_items
    assert report.processed == 80 - checkpoint.finished_items
    assert raw_items(dynamodb, live_settings.table("events")) == reference
    # and the report covers the whole run, each refused row listed once
    assert report.tally.total == 80
    assert sorted(p["eventId"] for p in report.tally.refused) == sorted(data.malformed_ids)


def test_process_killed_with_sigkill_resumes_to_the_same_table(dynamodb, live_settings, tmp_path, reference):
    # given legacy data and a CLI run in its own process, slowed down by the rate limit
    seed(dynamodb, live_settings, events=80, participants=200, malformed=4)
    env = {**os.environ, "AWS_ENDPOINT_URL": live_settings.endpoint_url,
           "EVENTS_TABLE": live_settings.table("events"), "PARTICIPANTS_TABLE": live_settings.table("participants")}
    process = subprocess.Popen(
        [sys.executable, "-m", "backfill", "migrate", "--yes", "--backup-dir", str(tmp_path),
         "--scan-threads", "2", "--writers", "2", "--rate-limit", "25"],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # when it is killed with SIGKILL once it has recorded 15 writes
    try:
        deadline = time.monotonic() + 60  # a guard against a hung child, not an assertion
        while time.monotonic() < deadline and process.poll() is None:
            ledgers = list(tmp_path.glob("*.ledger.jsonl"))
            if ledgers and len(ledgers[0].read_text().splitlines()) >= 15:
                break
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    [manifest] = tmp_path.glob("*.manifest.json")
    run_id = manifest.name.removesuffix(".manifest.json")
    checkpoint = load_checkpoint(LocalStore(tmp_path), f"{run_id}.checkpoint.json", run_id)
    assert not checkpoint.completed
    # and resumed with --resume RUN_ID
    result = CliRunner().invoke(
        cli,
        ["migrate", "--endpoint-url", live_settings.endpoint_url, "--backup-dir", str(tmp_path),
         "--resume", run_id, "--yes", "--json"],
    )
    # then the resumed run completes (exit 1: the malformed rows) and the table equals the reference
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["completed"] and report["total"] == 80 and report["refused"] == 4
    assert raw_items(dynamodb, live_settings.table("events")) == reference


def test_resume_of_an_unknown_run_is_a_clear_error(dynamodb, live_settings, tmp_path):
    result = CliRunner().invoke(
        cli, ["migrate", "--endpoint-url", live_settings.endpoint_url, "--backup-dir", str(tmp_path),
              "--resume", "no-such-run", "--yes"],
    )
    assert result.exit_code == 2 and "no-such-run" in result.output
