"""A table migrated by several workers is one run: verify, restore and `backups` use every
segment's backup, and say plainly (non-zero exit) when the backups cover only part of the table."""

from __future__ import annotations

import pytest

from backfill.run.backup import iter_backup_items, list_backups
from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import run_backfill


@pytest.fixture
def cli_env(monkeypatch, live_settings):
    monkeypatch.setenv("AWS_ENDPOINT_URL", live_settings.endpoint_url)
    monkeypatch.setenv("EVENTS_TABLE", live_settings.table("events"))
    monkeypatch.setenv("PARTICIPANTS_TABLE", live_settings.table("participants"))
    for variable in ("AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ID", "BACKFILL_RUN_ID"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def segment_ids(backup_dir) -> dict[int, list[str]]:
    """segment -> eventIds, read from the backups the workers wrote (not from the code under test's run logic)."""
    ids: dict[int, list[str]] = {}
    for listing in list_backups(backup_dir):
        for segment, typed in iter_backup_items(listing.backup):
            ids.setdefault(segment, []).append(typed["eventId"]["S"])
    return ids


def test_a_segment_without_a_run_id_is_refused_before_any_work(dynamodb, live_settings, tmp_path, cli_env):
    # given legacy rows
    seed(dynamodb, live_settings, events=10, participants=20, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    # when one worker of a split is started without a run id (its segments could never form one run)
    refused = run_backfill("migrate", "--yes", "--backup-dir", str(tmp_path), "--segment", "0", "--total-segments", "2")
    # then it is refused in one line naming --run-id, exit 2, before anything is read or written
    assert refused.exit_code == 2, refused.stderr
    [line] = refused.errors()
    assert "--run-id" in line
    assert list(tmp_path.iterdir()) == [] and raw_items(dynamodb, live_settings.table("events")) == before


def test_resume_with_a_segment_is_refused_naming_both(tmp_path, cli_env):
    refused = run_backfill("migrate", "--yes", "--backup-dir", str(tmp_path), "--resume", "x",
                           "--segment", "0", "--total-segments", "2")
    assert refused.exit_code == 2 and len(refused.errors()) == 1
    assert "--resume" in refused.errors()[0] and "--segment" in refused.errors()[0]
    assert list(tmp_path.iterdir()) == []


def test_verify_after_one_segment_of_two_says_the_snapshot_is_partial(dynamodb, live_settings, tmp_path, cli_env):
    # given a table of which only segment 0 of run "half" was migrated
    seed(dynamodb, live_settings, events=30, participants=60, malformed=0)
    done = run_backfill("migrate", "--yes", "--backup-dir", str(tmp_path), "--run-id", "half",
                        "--segment", "0", "--total-segments", "2")
    assert done.exit_code == 0, done.stderr
    # when verify looks for its snapshot
    verified = run_backfill("verify", "--backup-dir", str(tmp_path))
    # then it does not pass on half a snapshot: it names the part covered and exits non-zero
    assert verified.exit_code != 0
    assert "covers only part" in verified.stderr and "missing [1]" in verified.stderr


def test_a_named_run_is_verified_and_restored_over_all_its_segments(dynamodb, live_settings, tmp_path, cli_env):
    # given legacy rows migrated by two workers of run "r1", the second taking its index from the
    # Kubernetes Indexed Job variable
    seed(dynamodb, live_settings, events=30, participants=60, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    first = run_backfill("migrate", "--yes", "--backup-dir", str(tmp_path), "--run-id", "r1",
                         "--segment", "0", "--total-segments", "2")
    cli_env.setenv("JOB_COMPLETION_INDEX", "1")
    second = run_backfill("migrate", "--yes", "--backup-dir", str(tmp_path), "--run-id", "r1", "--total-segments", "2")
    cli_env.delenv("JOB_COMPLETION_INDEX")
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    ids = segment_ids(tmp_path)
    assert sorted(ids) == [0, 1] and sorted(ids[0] + ids[1]) == sorted(before)
    # when verify runs on the whole run, it passes
    ok = run_backfill("verify", "--backup-dir", str(tmp_path), "--run", "r1", "--json")
    assert ok.exit_code == 0, ok.stderr
    assert ok.json()["snapshot"] == "r1"
    # and `backups` shows both parts as one whole run
    listed = run_backfill("backups", "--backup-dir", str(tmp_path), "--json").json()
    assert {row["run"] for row in listed} == {"r1"} and all(row["run_complete"] for row in listed)
    # when a row of segment 1 is deleted and a row of segment 0 edited
    deleted, edited = ids[1][0], ids[0][0]
    dynamodb.delete_item(TableName=live_settings.table("events"), Key={"eventId": {"S": deleted}})
    dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": {"S": edited}},
                         UpdateExpression="SET title = :t", ExpressionAttributeValues={":t": {"S": "tampered"}})
    # then verify --strict (no application writes here), without being told the run, finds both
    bad = run_backfill("verify", "--backup-dir", str(tmp_path), "--strict", "--json")
    assert bad.exit_code == 1
    failing = {f["item"] for f in bad.json()["failures"]}
    assert {deleted, edited} <= failing
    # and verify of one segment of the run (what one array child checks) finds only its own row
    for segment, row in ((1, deleted), (0, edited)):
        part = run_backfill("verify", "--backup-dir", str(tmp_path), "--run", "r1", "--segment", str(segment),
                            "--strict", "--json")
        assert part.exit_code == 1 and {f["item"] for f in part.json()["failures"]} == {row}
    # and restoring one segment's file alone is refused, naming the run
    [part] = [entry.backup for entry in list_backups(tmp_path) if entry.backup.segments == [0]]
    refused = run_backfill("restore", part.data_uri, "--yes", "--backup-dir", str(tmp_path), "--live-path-running")
    assert refused.exit_code == 2 and "--run r1" in refused.stderr
    # and restoring the run puts every untouched row of both segments back to the backup
    restored = run_backfill("restore", "--run", "r1", "--yes", "--backup-dir", str(tmp_path),
                            "--live-path-running", "--json")
    assert restored.exit_code == 1  # the deleted and the edited row are conflicts, listed
    outcomes = {i["eventId"]: i["outcome"] for i in restored.json()["items"]}
    assert outcomes == {deleted: "deleted_skipped", edited: "conflict_skipped"}
    after = raw_items(dynamodb, live_settings.table("events"))
    assert {e: after[e] for e in after if e != edited} == {e: before[e] for e in before if e not in (deleted, edited)}


def test_a_restarted_worker_of_a_named_run_resumes_its_segment(dynamodb, live_settings, tmp_path, cli_env):
    # given worker 1 of run "r2" that finished, started again with the same flags (a retried array child)
    seed(dynamodb, live_settings, events=20, participants=40, malformed=0)
    cli_env.setenv("AWS_BATCH_JOB_ARRAY_INDEX", "1")
    cli_env.setenv("AWS_BATCH_JOB_ID", "r2:1")
    args = ("migrate", "--yes", "--backup-dir", str(tmp_path), "--total-segments", "2", "--json")
    first = run_backfill(*args)
    again = run_backfill(*args)
    # then the second start took no new backup: it resumed the run's segment and found nothing left
    assert first.exit_code == 0 and again.exit_code == 0, first.stderr + again.stderr
    assert first.json()["run_id"] == again.json()["run_id"] == "r2-seg1of2"
    assert again.json()["processed_this_attempt"] == 0
    assert [entry.backup.run_id for entry in list_backups(tmp_path)] == ["r2-seg1of2"]


def test_an_array_index_without_the_split_size_is_a_usage_error(tmp_path, cli_env):
    cli_env.setenv("JOB_COMPLETION_INDEX", "3")
    refused = run_backfill("migrate", "--yes", "--backup-dir", str(tmp_path))
    assert refused.exit_code == 2 and "JOB_COMPLETION_INDEX" in refused.stderr and "--total-segments" in refused.stderr


def test_a_garbled_array_index_is_a_usage_error_naming_the_variable(tmp_path, cli_env):
    cli_env.setenv("JOB_COMPLETION_INDEX", "abc")
    for args in (("verify", "--run", "r1"), ("restore", "--run", "r1", "--yes"),
                 ("migrate", "--yes", "--total-segments", "2", "--run-id", "r1")):
        refused = run_backfill(*args, "--backup-dir", str(tmp_path))
        assert refused.exit_code == 2 and "JOB_COMPLETION_INDEX='abc'" in refused.stderr, refused.stderr
