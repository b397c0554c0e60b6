"""`migrate --processes N`: one run split over N child processes on this machine, with one
confirmation, one report, and a printed command that continues the run after a child dies."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import time
from pathlib import Path

from backfill.run.backup import iter_backup_items, list_backups
from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import finish, run_backfill, start_backfill

REFUSED = 3
INTERRUPTED = 130



def backed_up_ids(runs: Path) -> dict[int, set[str]]:
    """segment -> eventIds, read from the backups the children wrote."""
    ids: dict[int, set[str]] = {}
    for listing in list_backups(runs):
        for segment, typed in iter_backup_items(listing.backup):
            ids.setdefault(segment, set()).add(typed["eventId"]["S"])
    return ids


def test_three_processes_migrate_the_whole_table_as_one_run(dynamodb, live_settings, tmp_path, env):
    # given legacy rows
    seed(dynamodb, live_settings, events=45, participants=90, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    runs = tmp_path / "runs"
    # when one command migrates them with 3 processes
    done = run_backfill("migrate", "--processes", "3", "--yes", "--run-id", "p3", "--backup-dir", str(runs),
                        "--json", env=env)
    # then every row was backed up once, by 3 segments of run p3, and the combined report covers them all
    assert done.exit_code == 0, done.stderr
    ids = backed_up_ids(runs)
    assert sorted(ids) == [0, 1, 2] and set().union(*ids.values()) == set(before)
    assert sum(len(part) for part in ids.values()) == len(before)
    report = done.json()
    assert report["run_id"] == "p3" and report["completed"] and report["total"] == len(before)
    assert report["migrated"] == len(before) and [s["exit_code"] for s in report["segments"]] == [0, 0, 0]
    # and the report says how the children counted (auto: 15 queries each cost more than
    # scanning 90 rows) and the participant rows counted
    assert report["target"]["participants counted by"].startswith("scan: ")
    assert "auto" in report["target"]["participants counted by"]
    assert report["aggregate"]["source_rows_counted"] == 90
    # and one confirmation plan was shown, not three
    assert done.stderr.count("Plan (run p3") == 1
    # and status shows 3 segments done, verify passes over the whole run
    status = run_backfill("control", "p3", "status", "--backup-dir", str(runs), "--json", env=env)
    assert status.exit_code == 0 and status.json()["finished"], status.output
    assert [s["state"] for s in status.json()["segments"]] == ["done"] * 3, status.output
    verified = run_backfill("verify", "--run", "p3", "--backup-dir", str(runs), env=env)
    assert verified.exit_code == 0, verified.output


def test_processes_without_terminal_or_yes_refuse_and_write_nothing(dynamodb, live_settings, tmp_path, env):
    seed(dynamodb, live_settings, events=10, participants=20, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    refused = run_backfill("migrate", "--processes", "2", "--backup-dir", str(tmp_path / "runs"), env=env)
    assert refused.exit_code == REFUSED, refused.output
    assert not (tmp_path / "runs").exists() and raw_items(dynamodb, live_settings.table("events")) == before


def test_processes_with_a_segment_is_a_usage_error(tmp_path, env):
    refused = run_backfill("migrate", "--processes", "2", "--segment", "0", "--total-segments", "2", "--yes",
                           "--backup-dir", str(tmp_path), env=env)
    assert refused.exit_code == 2 and refused.errors()
    assert "--processes" in refused.errors()[0] and "--segment" in refused.errors()[0]


def child_pid(parent: int, segment: int) -> int | None:
    """The pid of the writing child of ``parent`` doing ``segment`` (read from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        writing = ppid == parent and b"--segment" in args
        if writing and args[args.index(b"--segment") + 1] == str(segment).encode():
            return int(entry.name)
    return None


def finished_items(checkpoint: Path) -> int:
    try:
        data = json.loads(checkpoint.read_text())
    except (OSError, ValueError):
        return 0
    return sum(int(p["done"]) + len(p["beyond"]) for p in data["segments"].values())


def test_a_killed_child_is_reported_and_the_printed_command_finishes_the_run(dynamodb, live_settings, tmp_path, env):
    # given legacy rows migrated by 2 processes slowed down by the (shared) rate limit
    seed(dynamodb, live_settings, events=120, participants=240, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    runs = tmp_path / "runs"
    process = start_backfill("migrate", "--processes", "2", "--yes", "--run-id", "pk", "--rate-limit", "30",
                             "--backup-dir", str(runs), env=env)
    # when the child writing segment 1 is killed without warning after its first checkpoint
    checkpoint = runs / "pk-seg1of2.checkpoint.json"
    deadline = time.monotonic() + 120
    pid = None
    while time.monotonic() < deadline and process.poll() is None:
        pid = child_pid(process.pid, 1)
        if pid is not None and finished_items(checkpoint) > 0:
            break
        time.sleep(0.05)
    assert pid is not None and process.poll() is None
    os.kill(pid, signal.SIGKILL)
    stopped = finish(process)
    # then the parent names the segment and how it ended, exits with the interrupted code, and
    # prints the command that continues the run
    assert stopped.exit_code == INTERRUPTED, stopped.output
    assert "Segment 1 failed (killed by SIGKILL)" in stopped.stderr and "pk-seg1of2.log" in stopped.stderr
    assert finished_items(checkpoint) < 60
    resume = [line.strip() for line in stopped.stderr.splitlines() if line.strip().startswith("backfill migrate")]
    assert resume == [shlex.join(["backfill", "migrate", "--rate-limit", "30.0", "--backup-dir", str(runs), "--yes",
                                  "--run-id", "pk", "--processes", "2"])], stopped.stderr
    # when that command runs, the run finishes: every row migrated, no second backup, verify passes
    resumed = run_backfill(*shlex.split(resume[0])[1:], "--json", env=env)
    assert resumed.exit_code == 0, resumed.output
    report = resumed.json()
    assert report["completed"] and report["total"] == len(before) and report["resumed_after"] > 0
    assert sorted(entry.backup.run_id for entry in list_backups(runs)) == ["pk-seg0of2", "pk-seg1of2"]
    verified = run_backfill("verify", "--run", "pk", "--backup-dir", str(runs), env=env)
    assert verified.exit_code == 0, verified.output


def test_restore_of_a_run_with_processes_puts_every_segment_back(dynamodb, live_settings, tmp_path, env):
    # given legacy rows migrated as run "pr" of 2 processes
    seed(dynamodb, live_settings, events=30, participants=60, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    runs = tmp_path / "runs"
    migrated = run_backfill("migrate", "--processes", "2", "--yes", "--run-id", "pr", "--backup-dir", str(runs), env=env)
    assert migrated.exit_code == 0, migrated.stderr
    assert raw_items(dynamodb, live_settings.table("events")) != before
    # when restore of the run without a terminal and without --yes is asked with 2 processes
    refused = run_backfill("restore", "--run", "pr", "--processes", "2", "--backup-dir", str(runs),
                           "--live-path-running", env=env)
    # then it refuses after one combined plan and writes nothing
    assert refused.exit_code == REFUSED, refused.output
    assert refused.stderr.count("Restore plan") == 1
    assert re.search(r"to restore \(still as migrated\)\s*│\s*30\s", refused.stderr), refused.stderr
    assert raw_items(dynamodb, live_settings.table("events")) != before
    # when it is confirmed with --yes
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    restored = run_backfill("restore", "--run", "pr", "--processes", "2", "--yes", "--backup-dir", str(runs),
                            "--live-path-running", "--json", env={**env, "TMPDIR": str(temporary)})
    # then every row of both segments is back as backed up, and the report sums both segments
    assert restored.exit_code == 0, restored.output
    report = restored.json()
    assert report["ok"] and report["counts"] == {"restored": 30}
    assert [s["exit_code"] for s in report["segments"]] == [0, 0]
    assert raw_items(dynamodb, live_settings.table("events")) == before
    # and the children's plans and results are in the run store, private, none left in the temp directory
    # (issue 32 finding 9: they stayed in a backfill-restore-* directory of $TMPDIR)
    outputs = sorted(p for p in runs.iterdir() if p.name.endswith((".restore-plan.json", ".restore-result.json")))
    assert len(outputs) == 4 and {p.stat().st_mode & 0o777 for p in outputs} == {0o600}
    assert list(temporary.iterdir()) == []
    # and each segment's log is its worker's one log, a file of the run that prune matches by its stem
    assert {Path(s["log"]).name for s in report["segments"]} == {"pr-seg0of2.log", "pr-seg1of2.log"}


def test_restore_of_a_run_with_processes_counts_every_segment_s_conflicts(dynamodb, live_settings, tmp_path, env):
    # given a run of 2 processes, after which the app changed 6 rows spread over both segments
    seed(dynamodb, live_settings, events=30, participants=60, malformed=0)
    runs = tmp_path / "runs"
    migrated = run_backfill("migrate", "--processes", "2", "--yes", "--run-id", "pc", "--backup-dir", str(runs), env=env)
    assert migrated.exit_code == 0, migrated.stderr
    changed = [event_id for ids in backed_up_ids(runs).values() for event_id in sorted(ids)[:3]]
    for event_id in changed:
        dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": {"S": event_id}},
                             UpdateExpression="SET title = :t", ExpressionAttributeValues={":t": {"S": "changed by the app"}})
    assert len(changed) == 6
    # when restore of the run is asked with 2 processes, showing 1 conflict, without --yes
    refused = run_backfill("restore", "--run", "pc", "--processes", "2", "--show", "1", "--backup-dir", str(runs),
                           "--live-path-running", env=env)
    # then the one conflict shown is said to be the first of all 6, not of the rows the children sent
    assert refused.exit_code == REFUSED, refused.output
    assert f"conflicts: skipped: first 1 of {len(changed)}" in refused.stderr, refused.stderr


def test_ctrl_c_in_the_parent_stops_every_child_at_a_checkpoint_and_prints_the_command(dynamodb, live_settings,
                                                                                       tmp_path, env):
    # given legacy rows migrated by 2 processes slowed down by the (shared) rate limit
    seed(dynamodb, live_settings, events=120, participants=240, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    runs = tmp_path / "runs"
    process = start_backfill("migrate", "--processes", "2", "--yes", "--run-id", "pc", "--rate-limit", "30",
                             "--backup-dir", str(runs), env=env)
    # when Ctrl-C reaches the parent alone once segment 0 has saved progress
    checkpoints = [runs / f"pc-seg{k}of2.checkpoint.json" for k in range(2)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and finished_items(checkpoints[0]) == 0:
        time.sleep(0.05)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    stopped = finish(process)
    # then it exits 130 with the command that continues, every child stopped at a saved checkpoint
    assert stopped.exit_code == INTERRUPTED, stopped.output
    assert "Interrupted" in stopped.stderr
    resume = [line.strip() for line in stopped.stderr.splitlines() if line.strip().startswith("backfill migrate")]
    assert len(resume) == 1 and resume[0].endswith("--run-id pc --processes 2"), stopped.stderr
    assert 0 < sum(finished_items(c) for c in checkpoints) < len(before)
    # and that command finishes the run
    resumed = run_backfill(*shlex.split(resume[0])[1:], "--json", env=env)
    assert resumed.exit_code == 0, resumed.output
    assert resumed.json()["completed"] and resumed.json()["total"] == len(before)
