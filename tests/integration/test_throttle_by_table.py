"""Throttle by the table: `--max-capacity` is refused up front when it cannot be met; while the
deployed live path lags (its stream functions' IteratorAge in CloudWatch, here the moto server's),
`--max-iterator-age` holds every write, and the run goes on once the lag is gone."""

from __future__ import annotations

import shlex
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from backfill.live.model import function_names
from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import finish, run_backfill, start_backfill


def iterator_age(live_settings, stage: str, ms: float, minutes_ago: int = 0) -> None:
    """What Lambda publishes for each stream function of the stage: its IteratorAge (CloudWatch
    keeps the maximum per minute, so a later value goes in a later minute)."""
    cloudwatch = boto3.client("cloudwatch", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url)
    for function in function_names(stage):
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[{
            "MetricName": "IteratorAge", "Dimensions": [{"Name": "FunctionName", "Value": function}],
            "Timestamp": datetime.now(timezone.utc) - timedelta(minutes=minutes_ago), "Value": ms,
            "Unit": "Milliseconds"}])


@pytest.mark.needs_aws(reason="needs CloudWatch on the same endpoint as DynamoDB; DynamoDB Local has none")
def test_a_lagging_live_path_holds_the_writes_and_the_run_goes_on_once_it_caught_up(dynamodb, live_settings,
                                                                                    tmp_path, env):
    # given legacy rows, and the live path of stage "dev" ten minutes behind its streams
    seed(dynamodb, live_settings, events=20, participants=20, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    iterator_age(live_settings, "dev", 600_000, minutes_ago=2)
    runs = str(tmp_path / "runs")
    # when a run that may not let the live path lag more than 60 s starts
    process = start_backfill("migrate", "--yes", "--run-id", "lag", "--max-iterator-age", "60", "--stage", "dev",
                             "--backup-dir", runs, env=env)
    deadline = time.monotonic() + 60  # a guard against a hung run
    while True:
        shown = run_backfill("control", "lag", "status", "--json", "--backup-dir", runs, env=env)
        live = shown.json()["segments"][0]["live"] if shown.exit_code == 0 else None
        if live:
            break
        assert time.monotonic() < deadline
        assert process.poll() is None, finish(process).output
        time.sleep(0.3)
    # then it holds every write, and says why
    time.sleep(2)
    assert raw_items(dynamodb, live_settings.table("events")) == before
    live = run_backfill("control", "lag", "status", "--json", "--backup-dir", runs, env=env).json()["segments"][0]["live"]
    assert live["held_by_lag"] is True and live["iterator_age_s"] == 600
    # when it is stopped, the live path catches up, and the run is continued
    assert run_backfill("control", "lag", "stop", "--backup-dir", runs, env=env).exit_code == 0
    stopped = finish(process)
    assert stopped.exit_code == 130 and raw_items(dynamodb, live_settings.table("events")) == before, stopped.output
    iterator_age(live_settings, "dev", 1_000)
    [again] = [line.strip() for line in stopped.stderr.splitlines() if line.strip().startswith("backfill migrate")]
    continued = run_backfill(*shlex.split(again)[1:], env=env, timeout=90)
    # then it writes everything
    assert continued.exit_code == 0, continued.output
    after = raw_items(dynamodb, live_settings.table("events"))
    assert all(after[event_id] != item for event_id, item in before.items())


@pytest.mark.parametrize(("args", "says"), [
    (["--max-capacity", "lots"], "--max-capacity 'lots' is not N"),
    (["--max-capacity", "0"], "more than 0"),
    (["--max-iterator-age", "60"], "--max-iterator-age needs --stage"),
])
def test_throttle_options_that_cannot_work_are_refused_up_front(tmp_path, env, args, says):
    refused = run_backfill("migrate", "--yes", *args, "--backup-dir", str(tmp_path), env=env)
    assert refused.exit_code == 2 and len(refused.errors()) == 1 and says in refused.errors()[0], refused.output
    assert list(tmp_path.iterdir()) == []


def test_a_share_of_an_on_demand_table_without_a_maximum_is_refused_before_any_write(dynamodb, live_settings,
                                                                                      tmp_path, env):
    seed(dynamodb, live_settings, events=5, participants=5, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    refused = run_backfill("migrate", "--yes", "--max-capacity", "50%", "--backup-dir", str(tmp_path), env=env)
    assert refused.exit_code == 2 and "write throughput" in refused.stderr, refused.output
    assert raw_items(dynamodb, live_settings.table("events")) == before


CAPACITY_STORE = "s3://capacity-runs/runs"


@pytest.mark.needs_aws(reason="needs S3 on the same endpoint as DynamoDB; DynamoDB Local has no S3")
def test_max_capacity_is_shared_by_the_workers_measured_not_by_fixed_shares(dynamodb, live_settings, env):
    # given legacy rows, an S3 run store, and a run split in 3 segments of which only 2 workers run
    boto3.client("s3", region_name=live_settings.region,
                 endpoint_url=live_settings.endpoint_url).create_bucket(Bucket="capacity-runs")
    seed(dynamodb, live_settings, events=150, participants=30, malformed=0)
    limit, fixed_share = 6.0, 6.0 / 3
    workers = [start_backfill("migrate", "--yes", "--run-id", "cap", "--total-segments", "3", "--segment", str(k),
                              "--max-capacity", f"{limit:g}", "--writers", "2", "--backup-dir", CAPACITY_STORE,
                              env=env) for k in (0, 1)]
    # when the workers have measured each other (their published write units and whether their
    # share held them back), then each takes more than the fixed third: the missing worker's part
    raised: dict[int, float] = {}
    deadline = time.monotonic() + 120  # a guard against a hung run, not a timing assertion
    while len(raised) < 2 and all(w.poll() is None for w in workers):
        assert time.monotonic() < deadline, "timed out"
        shown = run_backfill("control", "cap", "status", "--json", "--total-segments", "3",
                             "--backup-dir", CAPACITY_STORE, env=env)
        for segment in shown.json()["segments"] if shown.exit_code == 0 else []:
            share = (segment["live"] or {}).get("capacity_limit")
            if share is not None and share > fixed_share:
                raised[segment["segment"]] = share
        time.sleep(0.3)
    ended = [finish(worker) for worker in workers]
    assert [e.exit_code for e in ended] == [0, 0], [e.stderr for e in ended]
    assert sorted(raised) == [0, 1], raised
    # and no worker's share was above the whole limit
    assert all(share <= limit for share in raised.values())
