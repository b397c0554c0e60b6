"""count_participants: one parallel scan gives exact per-event counts."""

from backfill import legacy_data
from backfill.participant_counts import count_participants


def test_counts_equal_the_rows_per_event(dynamodb, settings):
    # given participants spread unevenly over events
    data = legacy_data.generate(events=30, participants=200, seed=3)
    legacy_data.seed_tables(dynamodb, settings.events_table, settings.participants_table, data)
    # when they are counted with a 3-segment parallel scan
    counts = count_participants(dynamodb, settings.participants_table, 3)
    # then every event's count equals its rows, and events without participants are absent
    assert counts == data.participant_counts()
    assert sum(counts.values()) == 200


def test_segments_split_the_count_without_overlap(dynamodb, settings):
    # given some participants
    data = legacy_data.generate(events=10, participants=60, seed=5)
    legacy_data.seed_tables(dynamodb, settings.events_table, settings.participants_table, data)
    # when each of two segments is counted separately and the progress callback is used
    seen: list[int] = []
    parts = [count_participants(dynamodb, settings.participants_table, 2, segments=[s], on_rows=seen.append) for s in (0, 1)]
    # then the rows are split between the segments and add up to the whole
    merged: dict[str, int] = {}
    for part in parts:
        for event_id, n in part.items():
            merged[event_id] = merged.get(event_id, 0) + n
    assert merged == data.participant_counts() and sum(seen) == 60


def test_empty_table_counts_nothing(dynamodb, settings):
    assert count_participants(dynamodb, settings.participants_table, 4) == {}
