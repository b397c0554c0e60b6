"""Three array-job workers migrate one table into an s3:// run store on the moto server (DynamoDB
and S3 on one endpoint); one is SIGKILLed midway and restarted with the same flags. Then status,
verify and restore take the whole run."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import REPO, run_backfill

pytestmark = pytest.mark.needs_aws(reason="needs S3 on the same endpoint as DynamoDB; DynamoDB Local has no S3")

BUCKET = "runs"
STORE = f"s3://{BUCKET}/prod/backfill"
PARENT_JOB = "7f3a9c1e-array"  # AWS Batch names the children of an array job PARENT:INDEX


@pytest.fixture
def s3(live_settings: Any) -> Any:
    client = boto3.client("s3", region_name="us-east-1", endpoint_url=live_settings.endpoint_url)
    client.create_bucket(Bucket=BUCKET)
    return client


def worker_env(live_settings: Any, index: int, job: str = PARENT_JOB) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "AWS_ENDPOINT_URL": live_settings.endpoint_url,
            "EVENTS_TABLE": live_settings.table("events"), "PARTICIPANTS_TABLE": live_settings.table("participants"),
            "AWS_BATCH_JOB_ARRAY_INDEX": str(index), "AWS_BATCH_JOB_ID": f"{job}:{index}"}


def start_worker(live_settings: Any, index: int, *extra: str) -> subprocess.Popen[bytes]:
    # The same command line for every child, as an array job gives it; only the environment differs.
    return start_child(live_settings, index, "migrate", "--yes", "--backup-dir", STORE, "--total-segments", "3",
                       "--writers", "2", *extra)


def start_child(live_settings: Any, index: int, *argv: str, job: str = PARENT_JOB) -> subprocess.Popen[bytes]:
    """``backfill ARGV`` as child ``index`` of an AWS Batch array job ``job``."""
    return subprocess.Popen(
        [sys.executable, "-m", "backfill", *argv],
        cwd=REPO, env=worker_env(live_settings, index, job), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def wait_ok(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        assert child.wait(timeout=180) == 0, child.stderr.read().decode() if child.stderr else ""


def ledger_parts(s3: Any, index: int) -> int:
    prefix = f"prod/backfill/{PARENT_JOB}-seg{index}of3.ledger.jsonl/"
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("KeyCount", 0)


def test_three_workers_one_killed_and_restarted_make_one_run_on_s3(dynamodb, live_settings, s3, monkeypatch):
    # given legacy events, and the environment the CLI reads
    seed(dynamodb, live_settings, events=90, participants=180, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    for name, value in (("AWS_ENDPOINT_URL", live_settings.endpoint_url),
                        ("EVENTS_TABLE", live_settings.table("events")),
                        ("PARTICIPANTS_TABLE", live_settings.table("participants"))):
        monkeypatch.setenv(name, value)
    # when three array children start, child 1 slowed down and SIGKILLed after 5 recorded writes
    slow = start_worker(live_settings, 1, "--rate-limit", "15")
    others = [start_worker(live_settings, k) for k in (0, 2)]
    try:
        deadline = time.monotonic() + 120  # a guard against a hung child, not an assertion
        while time.monotonic() < deadline and slow.poll() is None and ledger_parts(s3, 1) < 5:
            time.sleep(0.05)
    finally:
        slow.send_signal(signal.SIGKILL)
        slow.wait()
    assert slow.returncode == -signal.SIGKILL
    for worker in others:
        assert worker.wait(timeout=180) == 0, worker.stderr.read().decode() if worker.stderr else ""
    # then status shows the killed segment unfinished and the others done
    status = run_backfill("control", PARENT_JOB, "status", "--backup-dir", STORE, "--json")
    assert status.exit_code == 0 and status.json()["finished"] is False
    states = {s["segment"]: s for s in status.json()["segments"]}
    assert states[0]["state"] == states[2]["state"] == "done"
    assert states[1]["state"] == "running" and states[1]["done"] < states[1]["items"]
    # and verify refuses nothing yet passes nothing: the killed segment's rows are not migrated
    assert run_backfill("verify", "--backup-dir", STORE, "--run", PARENT_JOB).exit_code == 1

    # when the killed child is retried with the same command line
    retried = start_worker(live_settings, 1)
    assert retried.wait(timeout=180) == 0, retried.stderr.read().decode() if retried.stderr else ""
    # then it resumed its segment from the store (no second backup) and every segment is done
    manifests = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="prod/backfill/")["Contents"]
                 if o["Key"].endswith(".manifest.json")]
    assert sorted(manifests) == [f"prod/backfill/{PARENT_JOB}-seg{k}of3.manifest.json" for k in range(3)]
    status = run_backfill("control", PARENT_JOB, "status", "--backup-dir", STORE, "--json")
    assert status.exit_code == 0 and status.json()["finished"] is True
    assert [s["state"] for s in status.json()["segments"]] == ["done"] * 3
    # and `backups` lists the three parts, checksums verified, as one whole run with ledgers
    listed = run_backfill("backups", "--backup-dir", STORE, "--json").json()
    assert sorted(row["run_id"] for row in listed) == [f"{PARENT_JOB}-seg{k}of3" for k in range(3)]
    assert all(row["ok"] and row["ledger"] and row["run_complete"] and row["run"] == PARENT_JOB for row in listed)
    # and verify over the whole run passes
    verified = run_backfill("verify", "--backup-dir", STORE, "--run", PARENT_JOB, "--json")
    assert verified.exit_code == 0, verified.stderr
    assert verified.json()["items_checked"] == 90

    # when one row of segment 1 is tampered with (its status set back to a legacy value)
    victim = next(iter_segment_ids(s3, 1))
    dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": {"S": victim}},
                         UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":s": {"S": "tampered"}})
    # then verify over the run fails on exactly that row
    tampered = run_backfill("verify", "--backup-dir", STORE, "--run", PARENT_JOB, "--json")
    assert tampered.exit_code == 1
    assert {f["item"] for f in tampered.json()["failures"]} == {victim}

    # when the run is restored (the tampered row is a conflict and is forced back too)
    restored = run_backfill("restore", "--run", PARENT_JOB, "--backup-dir", STORE, "--yes", "--force",
                            "--live-path-running", "--json")
    assert restored.exit_code == 0, restored.stderr
    # then the table is exactly the backup again
    assert raw_items(dynamodb, live_settings.table("events")) == before


def test_a_run_is_restored_by_three_array_children_one_segment_each(dynamodb, live_settings, s3):
    # given a table migrated into an s3:// run store by three array children
    seed(dynamodb, live_settings, events=60, participants=120, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    wait_ok([start_worker(live_settings, k) for k in range(3)])
    assert raw_items(dynamodb, live_settings.table("events")) != before
    # and an item created after the backup (it lies in one of the three segments)
    dynamodb.put_item(TableName=live_settings.table("events"), Item={"eventId": {"S": "born-later"}, "name": {"S": "x"}})
    # when a second array job restores the run: three children at once, the same command line for
    # each, no --segment (each takes its segment from AWS_BATCH_JOB_ARRAY_INDEX)
    wait_ok([start_child(live_settings, k, "restore", "--run", PARENT_JOB, "--backup-dir", STORE, "--yes",
                         "--delete-new", "--live-path-running", job="restore-array") for k in range(3)])
    # then the table is exactly the backup again, the new item gone
    assert raw_items(dynamodb, live_settings.table("events")) == before
    # and each child restored its own segment and wrote its own report
    reports = {k: json.loads(s3.get_object(Bucket=BUCKET, Key=f"prod/backfill/{PARENT_JOB}-seg{k}of3.restore-report.json")
                             ["Body"].read()) for k in range(3)}
    assert sum(r["counts"].get("restored", 0) for r in reports.values()) == 60
    assert [r["plan"]["covers"] for r in reports.values()] == [
        f"segment(s) [{k}] of 3 of run {PARENT_JOB!r}" for k in range(3)]
    assert sum(r["counts"].get("new_deleted", 0) for r in reports.values()) == 1


def iter_segment_ids(s3: Any, segment: int) -> Iterator[str]:
    """eventIds in one segment's backup, read straight from the S3 object (not through the store code)."""
    body = s3.get_object(Bucket=BUCKET, Key=f"prod/backfill/{PARENT_JOB}-seg{segment}of3.jsonl.gz")["Body"].read()
    for line in gzip.decompress(body).splitlines():
        yield json.loads(line)["item"]["eventId"]["S"]


def test_a_run_store_in_a_missing_bucket_is_named_without_a_traceback(live_settings, monkeypatch):
    # given no bucket at all on the endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL", live_settings.endpoint_url)
    store = "s3://no-such-bucket/runs"
    # then each command that reads the store names it and exits non-zero (run_backfill rejects tracebacks)
    listed = run_backfill("backups", "--backup-dir", store)
    assert listed.exit_code == 2 and "no-such-bucket" in listed.stderr
    status = run_backfill("control", "r", "status", "--backup-dir", store)
    assert status.exit_code == 4 and "no-such-bucket" in status.stderr
