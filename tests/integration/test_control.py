"""`backfill control RUN pause|rate N|resume|stop|status` steers a running migration from another
process: through the control record in its run store, on one machine (`--processes`) and across
three array-job workers on an s3:// store. Progress is read from the table itself (rows that
differ from before the run), not from the code under test."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import CliRun, finish, run_backfill, start_backfill

INTERRUPTED = 130
OBEY_S = 5  # the promise: every worker obeys within 5 seconds



def wait_for(condition: Callable[[], bool], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout  # a guard against a hung run, not a timing assertion
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def settled(read: Callable[[], int], quiet_s: float = OBEY_S / 2, timeout: float = 180) -> int:
    """``read()`` once it gave the same answer twice ``quiet_s`` apart: the writes that were in
    flight when the pause arrived have landed, however long a loaded machine took for them."""
    deadline = time.monotonic() + timeout  # a guard against a run that never stops writing
    value = read()
    while True:
        time.sleep(quiet_s)
        again = read()
        if again == value:
            return value
        assert time.monotonic() < deadline, "still writing while paused"
        value = again


def migrated(dynamodb: Any, table: str, before: dict[str, Any]) -> int:
    """Rows that differ from before the run (read straight from the endpoint)."""
    return sum(item != before.get(event_id) for event_id, item in raw_items(dynamodb, table).items())


class Steer:
    """`backfill control RUN ...` against one run store."""

    def __init__(self, run: str, store: str, env: dict[str, str]) -> None:
        self.run, self.store, self.env = run, store, env

    def __call__(self, *args: str) -> CliRun:
        return run_backfill("control", self.run, *args, "--backup-dir", self.store, env=self.env)

    def status(self) -> dict[str, Any]:
        shown = self("status", "--json")
        assert shown.exit_code == 0, shown.output
        return shown.json()


def steer_through_pause_rate_resume_stop(steer: Steer, dynamodb: Any, table: str, before: dict[str, Any],
                                         workers: int) -> None:
    """The operator's session: pause, check nothing is written, set the rate, resume, stop."""
    # given writes under way
    wait_for(lambda: migrated(dynamodb, table, before) > 0)
    # when the run is paused
    paused = steer("pause")
    assert paused.exit_code == 0 and "Acknowledged by every running worker" in paused.stderr, paused.output
    # then every worker says so, and after the writes in flight the table stops changing
    assert [s["state"] for s in steer.status()["segments"]] == ["paused"] * workers
    frozen = settled(lambda: migrated(dynamodb, table, before))
    assert frozen < len(before)
    assert [s["state"] for s in steer.status()["segments"]] == ["paused"] * workers
    # when the whole run's rate is set (slow: the run must still be writing when it is stopped,
    # however long a loaded machine takes for each step), each worker takes its share
    rated = steer("rate", "1")
    assert rated.exit_code == 0 and "Acknowledged" in rated.stderr, rated.output
    assert [s["live"]["rate_limit"] for s in steer.status()["segments"]] == [1 / workers] * workers
    # when the run is resumed, writes go on
    resumed = steer("resume")
    assert resumed.exit_code == 0, resumed.output
    wait_for(lambda: migrated(dynamodb, table, before) > frozen)
    assert [s["state"] for s in steer.status()["segments"]] == ["running"] * workers
    # and every worker publishes the write units it consumed (each within 2 s of its first write)
    wait_for(lambda: all(s["live"]["write_units"] > 0 for s in steer.status()["segments"]))
    assert all(s["live"]["throttled"] == 0 for s in steer.status()["segments"])
    # when the run is stopped
    stopped = steer("stop")
    assert stopped.exit_code == 0, stopped.output


def continue_command(stderr: str) -> list[str]:
    [line] = [line.strip() for line in stderr.splitlines() if line.strip().startswith("backfill migrate")]
    return shlex.split(line)[1:]


def test_a_run_of_processes_is_paused_slowed_resumed_stopped_and_continued(dynamodb, live_settings, tmp_path, env):
    # given legacy rows and a migration in 2 processes, slowed by its rate limit
    seed(dynamodb, live_settings, events=50, participants=50, malformed=0)
    table = live_settings.table("events")
    before = raw_items(dynamodb, table)
    runs = str(tmp_path / "runs")
    process = start_backfill("migrate", "--processes", "2", "--yes", "--run-id", "c1", "--rate-limit", "3",
                             "--writers", "2", "--backup-dir", runs, env=env)
    # when an operator steers it from another process
    steer_through_pause_rate_resume_stop(Steer("c1", runs, env), dynamodb, table, before, workers=2)
    ended = finish(process)
    # then the run ends early with the interrupted code and the command that continues it
    assert ended.exit_code == INTERRUPTED, ended.output
    assert Steer("c1", runs, env)("rate", "0").exit_code == 0  # the rest at full speed
    assert "Stopped by `backfill control`" in ended.stderr and "Segment 0 failed" not in ended.stderr, ended.stderr
    assert migrated(dynamodb, table, before) < len(before)
    assert [s["state"] for s in Steer("c1", runs, env).status()["segments"]] == ["stopped"] * 2
    # when that command runs, the run finishes and verify passes
    continued = run_backfill(*continue_command(ended.stderr), env=env)
    assert continued.exit_code == 0, continued.output
    assert migrated(dynamodb, table, before) == len(before)
    verified = run_backfill("verify", "--run", "c1", "--backup-dir", runs, env=env)
    assert verified.exit_code == 0, verified.output
    # and a finished run cannot be steered any more (status still shows it)
    refused = Steer("c1", runs, env)("pause")
    assert refused.exit_code == 3 and len(refused.errors()) == 1 and "finished" in refused.errors()[0]
    assert [s["state"] for s in Steer("c1", runs, env).status()["segments"]] == ["done"] * 2


BUCKET = "steered"
STORE = f"s3://{BUCKET}/runs"
JOB = "b7c1-array"


def start_array_child(live_settings: Any, env: dict[str, str], index: int) -> subprocess.Popen[str]:
    """One of three AWS Batch array children: the same command line, its index in the environment."""
    child_env = {**env, "AWS_BATCH_JOB_ARRAY_INDEX": str(index), "AWS_BATCH_JOB_ID": f"{JOB}:{index}"}
    return start_backfill("migrate", "--yes", "--backup-dir", STORE, "--total-segments", "3", "--writers", "2",
                          "--rate-limit", "1", env=child_env)


@pytest.mark.needs_aws(reason="needs S3 on the same endpoint as DynamoDB; DynamoDB Local has no S3")
def test_three_array_workers_on_s3_are_steered_and_continued(dynamodb, live_settings, env):
    # given legacy rows, an S3 run store and three array children writing slowly
    boto3.client("s3", region_name="us-east-1", endpoint_url=live_settings.endpoint_url).create_bucket(Bucket=BUCKET)
    seed(dynamodb, live_settings, events=90, participants=90, malformed=0)
    table = live_settings.table("events")
    before = raw_items(dynamodb, table)
    children = [start_array_child(live_settings, env, k) for k in range(3)]
    # when an operator steers the run from another process
    steer_through_pause_rate_resume_stop(Steer(JOB, STORE, env), dynamodb, table, before, workers=3)
    # then each worker ends with the interrupted code and prints the command that continues it
    ended = [finish(child) for child in children]
    assert [e.exit_code for e in ended] == [INTERRUPTED] * 3, [e.stderr for e in ended]
    assert all("Stopped" in e.stderr and "Continue with:" in e.stderr for e in ended)
    assert migrated(dynamodb, table, before) < len(before)
    assert Steer(JOB, STORE, env)("rate", "0").exit_code == 0  # the rest at full speed
    # when the array job is retried (the same command line for each child), the run finishes
    again = [finish(start_array_child(live_settings, env, k)) for k in range(3)]
    assert [a.exit_code for a in again] == [0] * 3, [a.stderr for a in again]
    # and verify over the whole run passes
    verified = run_backfill("verify", "--run", JOB, "--backup-dir", STORE, env=env)
    assert verified.exit_code == 0, verified.output
    assert migrated(dynamodb, table, before) == len(before)


def test_an_unknown_run_is_one_line_exit_2(tmp_path: Path, env):
    refused = run_backfill("control", "nope", "pause", "--backup-dir", str(tmp_path), env=env)
    assert refused.exit_code == 2 and len(refused.errors()) == 1 and "'nope'" in refused.errors()[0], refused.output


def test_rate_without_a_number_is_a_usage_error(tmp_path: Path, env):
    refused = run_backfill("control", "r", "rate", "--backup-dir", str(tmp_path), env=env)
    assert refused.exit_code == 2 and "rate takes N" in refused.stderr


@pytest.mark.needs_aws(reason="needs S3 on the same endpoint as DynamoDB; DynamoDB Local has no S3")
def test_a_store_that_cannot_be_read_is_one_line_naming_it(live_settings, env):
    # given an s3:// run store in a bucket that does not exist on the endpoint
    refused = run_backfill("control", "r", "pause", "--backup-dir", "s3://no-such-runs/x", env=env)
    # then one line names it, with the exit code of the AWS side (4), no traceback
    assert refused.exit_code == 4 and len(refused.errors()) == 1 and "no-such-runs" in refused.errors()[0], \
        refused.output


def test_status_lists_a_split_run_before_its_workers_start(tmp_path: Path, env):
    # given a run store where no worker of run "later" has written yet
    store = str(tmp_path / "runs")
    # when its status is asked with the run's split
    shown = run_backfill("control", "later", "status", "--total-segments", "2", "--json", "--backup-dir", store,
                         env=env)
    # then both segments are pending and the run is not finished
    assert shown.exit_code == 0, shown.output
    assert [s["state"] for s in shown.json()["segments"]] == ["pending", "pending"]
    assert shown.json()["finished"] is False
    # and without the split it is one line naming the run and the option that lists it
    unknown = run_backfill("control", "later", "status", "--backup-dir", store, env=env)
    assert unknown.exit_code == 2 and len(unknown.errors()) == 1 and "--total-segments" in unknown.errors()[0]


def test_a_run_has_one_status_command(env):
    # `backfill status` was a second name for a run's status beside `live status` (the mappings)
    gone = run_backfill("status", "--run", "r", env=env)
    assert gone.exit_code == 2 and "No such command 'status'" in gone.stderr


def test_a_paused_run_says_so_in_its_own_terminal_and_shows_no_eta(dynamodb, live_settings, tmp_path, env):
    # given a single-process migration, slowed by its rate limit
    seed(dynamodb, live_settings, events=30, participants=30, malformed=0)
    table = live_settings.table("events")
    before = raw_items(dynamodb, table)
    runs = str(tmp_path / "runs")
    process = start_backfill("migrate", "--yes", "--run-id", "p1", "--rate-limit", "2", "--backup-dir", runs, env=env)
    steer = Steer("p1", runs, env)
    wait_for(lambda: migrated(dynamodb, table, before) > 0)
    # when it is paused from another terminal
    assert steer("pause").exit_code == 0
    # then its status has no ETA while paused (its rate says nothing about when it ends)
    [segment] = steer.status()["segments"]
    assert segment["state"] == "paused" and segment["live"]["eta_s"] is None, segment
    shown = steer("status")
    assert shown.exit_code == 0 and "paused" in shown.stderr, shown.output
    # when it is resumed, and runs to its end
    assert steer("resume").exit_code == 0
    ended = finish(process)
    # then its own output said who paused and resumed it
    assert ended.exit_code == 0, ended.output
    output = " ".join(ended.stderr.split())
    assert "Paused by `backfill control`" in output and "Resumed by `backfill control`" in output, ended.stderr


def test_status_fits_an_80_column_terminal_with_whole_headers(tmp_path: Path, env):
    # given a split run whose workers have not started; when its status is shown at 80 columns
    shown = run_backfill("control", "w80", "status", "--total-segments", "3", "--backup-dir", str(tmp_path),
                         env={**env, "COLUMNS": "80"})
    # then every line fits and each header it shows is whole (no column squeezed to a letter or two)
    assert shown.exit_code == 0, shown.output
    assert max(len(line) for line in shown.stderr.splitlines()) <= 80, shown.stderr
    header = next(line for line in shown.stderr.splitlines() if "segment" in line)
    assert [word for word in ("segment", "state", "done/items", "items/s", "ETA") if word in header] == [
        "segment", "state", "done/items", "items/s", "ETA"], shown.stderr
