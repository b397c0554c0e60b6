"""Checkpoints: only the contiguous prefix of finished items counts as done, saved atomically."""

import pytest

from backfill.migrate.checkpoint import (
    Checkpoint,
    CheckpointError,
    SegmentProgress,
    load_checkpoint,
)
from backfill.migrate.tally import Tally
from backfill.store import LocalStore


def key(n):
    return {"eventId": {"S": f"e{n}"}}


def count_as(result):
    return lambda tally: tally.results.update([result])


def test_out_of_order_finishes_advance_only_the_contiguous_prefix():
    # given a segment whose items 1 and 2 finish before item 0
    progress = SegmentProgress()
    progress.finish(1, key(1), count_as("upgraded"))
    progress.finish(2, key(2), count_as("refused"))
    # then nothing is done yet
    assert progress.done == 0 and progress.last_key is None and progress.tally.total == 0
    # when item 0 finishes
    progress.finish(0, key(0), count_as("current"))
    # then all three are done, the last key is item 2's, and their outcomes are tallied
    assert progress.done == 3 and progress.last_key == key(2) and progress.pending == 0
    assert dict(progress.tally.results) == {"upgraded": 1, "refused": 1, "current": 1}


def test_finishing_an_item_twice_is_a_bug():
    progress = SegmentProgress()
    progress.finish(0, key(0), count_as("current"))
    with pytest.raises(ValueError):
        progress.finish(0, key(0), count_as("current"))


def test_checkpoint_round_trips_through_its_file(tmp_path):
    # given a checkpoint with progress in two segments, one item pending beyond a prefix
    checkpoint = Checkpoint("run-1", {"workers": 8})
    checkpoint.segment(0).finish(0, key(0), count_as("upgraded"))
    checkpoint.segment(3).finish(0, key(7), count_as("refused"))
    checkpoint.segment(3).finish(2, key(9), count_as("upgraded"))
    store = LocalStore(tmp_path)
    # when saved and loaded
    checkpoint.save(store, "run-1.checkpoint.json")
    loaded = load_checkpoint(store, "run-1.checkpoint.json", "run-1")
    # then the prefixes, keys, options and tallies survive; the pending item does not
    assert loaded.done(0) == 1 and loaded.done(3) == 1 and loaded.done(5) == 0
    assert loaded.segments[3].last_key == key(7)
    assert loaded.options == {"workers": 8} and loaded.finished_items == 2
    assert dict(loaded.tally().results) == {"upgraded": 1, "refused": 1}
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
    a.participants.add(4)
    b.refused.append({"eventId": "bad", "reasons": ["r"]})
    b.results.update(["refused"])
    b.participants.add(0)
    a.merge(b)
    again = Tally.from_dict(a.to_dict())
    assert again.to_dict() == a.to_dict()
    assert again.participants.to_dict() == {"events": 2, "events_with_participants": 1, "total": 4, "average": 2.0, "max": 4}
