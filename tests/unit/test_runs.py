"""Runs: the backups of split workers form one run only when they agree on the split and cover
each segment once; the array-job engines' variables name the segment and the run."""

from __future__ import annotations

import pytest

from backfill.run.backup import BackupError
from backfill.run.runs import (
    RunIncomplete,
    find_run,
    run_id_from_environment,
    segment_from_environment,
)
from backfill.run.store import LocalStore
from backfill.table.backup import create_backup
from chalicelib.items import to_typed


@pytest.fixture
def store(tmp_path, dynamodb, settings):
    for n in range(6):
        dynamodb.put_item(TableName=settings.table("events"), Item=to_typed({"eventId": f"e{n}", "status": "waiting"}))
    return LocalStore(tmp_path)


def backup_of(dynamodb, settings, store, segment, total, run="r"):
    return create_backup(dynamodb, settings.table("events"), store, region=settings.region, endpoint="x",
                         total_segments=total, segments=[segment], run_id=f"{run}-seg{segment}of{total}", run=run)


def test_a_run_is_complete_once_every_segment_has_its_backup(dynamodb, settings, store):
    backup_of(dynamodb, settings, store, 0, 3)
    backup_of(dynamodb, settings, store, 2, 3)
    partial = find_run(store, "r", settings.table("events"))
    assert partial.missing == [1] and "missing [1]" in partial.coverage()
    with pytest.raises(RunIncomplete, match="covers only part"):
        partial.require_complete()
    backup_of(dynamodb, settings, store, 1, 3)
    whole = find_run(store, "r", settings.table("events"))
    assert whole.complete and whole.item_count == 6 and whole.backup_of(1).segments == [1]


def test_backups_that_disagree_on_the_split_or_repeat_a_segment_are_not_one_run(dynamodb, settings, store):
    backup_of(dynamodb, settings, store, 0, 2)
    backup_of(dynamodb, settings, store, 1, 3)
    with pytest.raises(BackupError, match="mixes splits"):
        find_run(store, "r", settings.table("events"))
    other = LocalStore(store.directory / "other")
    backup_of(dynamodb, settings, other, 0, 2)
    create_backup(dynamodb, settings.table("events"), other, region=settings.region, endpoint="x", total_segments=2,
                  segments=[0], run_id="r-again", run="r")
    with pytest.raises(BackupError, match="two backups of segment 0"):
        find_run(other, "r", settings.table("events"))


def test_the_segment_and_run_come_from_the_array_job_variables():
    assert segment_from_environment({"AWS_BATCH_JOB_ARRAY_INDEX": "7"}) == (7, "AWS_BATCH_JOB_ARRAY_INDEX")
    assert segment_from_environment({"JOB_COMPLETION_INDEX": "0"}) == (0, "JOB_COMPLETION_INDEX")
    assert segment_from_environment({}) is None
    with pytest.raises(ValueError, match="JOB_COMPLETION_INDEX='x'"):
        segment_from_environment({"JOB_COMPLETION_INDEX": "x"})
    assert run_id_from_environment({"AWS_BATCH_JOB_ID": "6f1c-42:3"}) == "6f1c-42"
    assert run_id_from_environment({}) is None
