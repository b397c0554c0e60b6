"""The backfill killed at random points, then resumed: nothing lost, nothing redone, counts exact."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from backfill.migrate import run_migration
from backfill.run.ledger import LEDGER_SUFFIX
from backfill.table.target import Target
from tests.integration.faults.injection import Killed, Killer
from tests.integration.faults.scenario import final_check, migration_options, newest_run_id, seed

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("scenario_seed", [101, 202])
def test_killed_mid_write_several_times_then_resumed(target, backup_dir, figures, scenario_seed):
    # given 80 legacy events (3 malformed) and a backfill that dies at 3 random points
    rng = random.Random(scenario_seed)
    data = seed(target, events=80, participants=300, malformed=3, seed=scenario_seed)
    options = migration_options(backup_dir)
    kill_points = sorted(rng.sample(range(5, 70), 3))
    resume_from = None
    # when each attempt is killed after K more UpdateItem sends, and the next resumes the run
    for attempt, kill_after in enumerate(kill_points):
        attempt_target = Target(settings=target.settings)
        killer = Killer("UpdateItem", after=kill_after - (kill_points[attempt - 1] if attempt else 0)).attach(
            attempt_target.dynamodb
        )
        with pytest.raises(Killed):
            run_migration(attempt_target, replace(options, resume=resume_from))
        assert killer.fired
        figures.faults["backfill killed"] += 1
        resume_from = newest_run_id(backup_dir, target.settings.table("events"))
    final = Target(settings=target.settings)
    report = run_migration(final, replace(options, resume=resume_from))
    figures.records_processed += report.tally.total
    # then the run completes and covers every item exactly once in its report
    summary = report.to_dict()
    assert report.completed and summary["total"] == len(data.events)
    assert summary["migrated"] + summary["skipped_already_upgraded"] + summary["refused"] == len(data.events)
    assert summary["refused"] == len(data.malformed_ids) and summary["failed"] == 0
    # and finished work was not redone: the last attempt examined only what was left, and only
    # items written after the last checkpoint of a killed attempt were found already upgraded
    assert report.resumed_after > 0 and report.processed == len(data.events) - report.resumed_after
    in_flight_window = options.checkpoint_every + options.in_flight_limit()
    assert summary["skipped_already_upgraded"] <= len(kill_points) * in_flight_window
    # and a full verify and an independent count agree: nothing lost, every count exact
    final_check(target, data, figures, backup_dir=backup_dir)


def _cli(*args: str, endpoint_url: str, backup_dir: Path) -> list[str]:
    return [sys.executable, "-m", "backfill", "migrate", "--endpoint-url", endpoint_url,
            "--backup-dir", str(backup_dir), "--yes", "--json", "--writers", "4", *args]


def _ledger_lines(backup_dir: Path) -> int:
    return sum(len(path.read_bytes().splitlines()) for path in backup_dir.glob(f"*{LEDGER_SUFFIX}"))


def test_cli_process_sigkilled_mid_run_then_resumed(target, backup_dir, figures, endpoint_url):
    # given 120 legacy events and a real `backfill migrate` process, throttled to 60 writes/s
    data = seed(target, events=120, participants=400, malformed=2, seed=303)
    # past the first checkpoint: 25 items settled, plus one task of 8 in flight on each of 4 writers
    kill_after = random.Random(303).randrange(60, 100)
    process = subprocess.Popen(
        _cli("--rate-limit", "60", endpoint_url=endpoint_url, backup_dir=backup_dir),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    # when it is SIGKILLed once its ledger shows K writes announced
    try:
        while _ledger_lines(backup_dir) < kill_after and process.poll() is None:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    figures.faults["backfill SIGKILLed"] += 1
    run_id = newest_run_id(backup_dir, target.settings.table("events"))
    # and the CLI resumes the run
    resumed = subprocess.run(
        _cli("--resume", run_id, endpoint_url=endpoint_url, backup_dir=backup_dir),
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    report = json.loads(resumed.stdout)
    figures.records_processed += report["total"]
    # then it reports the whole run (refusals are exit code 1), having skipped finished work
    assert resumed.returncode == 1 and report["completed"] and report["total"] == len(data.events)
    assert report["refused"] == len(data.malformed_ids) and report["failed"] == 0
    assert report["resumed_after"] > 0
    # and a full verify and an independent count agree: nothing lost, every count exact
    final_check(target, data, figures, backup_dir=backup_dir)
