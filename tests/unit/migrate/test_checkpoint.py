"""Checkpoints: every finished item is saved (a contiguous prefix plus the indexes beyond it)."""

import pytest

from backfill.run.checkpoint import (
    Checkpoint,
    CheckpointError,
    SegmentProgress,
    load_checkpoint,
)
from backfill.run.store import LocalStore
from backfill.run.tally import Tally


def count_as(result):
    return lambda tally: tally.results.update([result])


def test_out_of_order_finishes_count_at_once_and_join_the_prefix_later():
    # given a segment whose items 1 and 2 finish before item 0 (a writer fell behind)
    progress = SegmentProgress()
    progress.finish(1, count_as("upgraded"))
    progress.finish(2, count_as("refused"))
    # then they are finished and tallied, beyond an empty prefix
    assert progress.done == 0 and progress.beyond == {1, 2}
    assert progress.finished == 2 and progress.tally.total == 2
    assert not progress.is_finished(0) and progress.is_finished(2)
    # when item 0 finishes
    progress.finish(0, count_as("current"))
    # then all three form the prefix, and every outcome is tallied once
    assert progress.done == 3 and progress.beyond == set()
    assert dict(progress.tally.results) == {"upgraded": 1, "refused": 1, "current": 1}


def test_finishing_an_item_twice_is_a_bug():
    progress = SegmentProgress()
    progress.finish(0, count_as("current"))
    with pytest.raises(ValueError):
        progress.finish(0, count_as("current"))


def test_checkpoint_round_trips_through_its_file(tmp_path):
    # given a checkpoint with progress in two segments, one item finished beyond a prefix
    checkpoint = Checkpoint("run-1", {"workers": 8})
    checkpoint.segment(0).finish(0, count_as("upgraded"))
    checkpoint.segment(3).finish(0, count_as("refused"))
    checkpoint.segment(3).finish(2, count_as("upgraded"))
    store = LocalStore(tmp_path)
    # when saved and loaded
    checkpoint.save(store, "run-1.checkpoint.json")
    loaded = load_checkpoint(store, "run-1.checkpoint.json", "run-1")
    # then the prefixes, the item beyond one, options and tallies all survive
    assert loaded.segments[0].done == 1 and loaded.segments[3].done == 1 and 5 not in loaded.segments
    assert loaded.is_finished(3, 2) and not loaded.is_finished(3, 1) and not loaded.is_finished(5, 0)
    assert loaded.options == {"workers": 8} and loaded.finished_items == 3
    assert dict(loaded.tally().results) == {"upgraded": 2, "refused": 1}
    assert not loaded.completed


def test_missing_checkpoint_means_nothing_done_and_wrong_run_is_refused(tmp_path):
    store, name = LocalStore(tmp_path), "x.checkpoint.json"
    assert load_checkpoint(store, name, "x") is None
    Checkpoint("other", {}).save(store, name)
    with pytest.raises(CheckpointError, match="belongs to run other"):
        load_checkpoint(store, name, "x")
    (tmp_path / name).write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(store, name, "x")


def test_tally_merges_and_round_trips():
    a, b = Tally(), Tally()
    a.results.update(["upgraded", "upgraded"])
    a.aggregate.add(4)
    b.refused.append({"eventId": "bad", "reasons": ["r"]})
    b.results.update(["refused"])
    b.aggregate.add(0)
    a.merge(b)
    again = Tally.from_dict(a.to_dict())
    assert again.to_dict() == a.to_dict()
    assert again.aggregate.to_dict() == {"name": "participantCount", "items": 2, "items_not_zero": 1, "total": 4, "average": 2.0, "max": 4}
